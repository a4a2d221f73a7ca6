"""Oversight plans: versions are inserted, approval activates and archives, authors never approve."""

import pytest
from django.db import IntegrityError, transaction

from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.models import OversightPlanVersion
from accountability.services import oversight as plan_svc
from tests.factories import PlanVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_case(project):
    return UseCaseFactory(project=project, high_impact=True)


def statuses(plan):
    return list(plan.versions.order_by("version").values_list("version", "status"))


def test_create_from_template_makes_a_draft_version_one(staff_user, project, use_case, ledger_count):
    before = ledger_count()
    v1 = plan_svc.oversight_plan_create(actor=staff_user, project=project, use_case=use_case, template="standard_hitl")
    assert (v1.version, v1.status, v1.template) == (1, "draft", "standard_hitl")
    assert v1.name == "Standard human-in-the-loop plan"
    assert [r["role"] for r in v1.roles] == ["Accountable official", "Human reviewer", "Program manager"]
    assert v1.created_by == staff_user
    assert ledger_count() == before + 1


def test_full_lifecycle_over_three_versions(staff_user, caio_user, project, use_case):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    assert statuses(plan) == [(1, "active")]

    v2 = plan_svc.oversight_plan_new_version(
        actor=staff_user, plan=plan, change_summary="Escalate faster", intervention_role="Deputy director"
    )
    assert (v2.version, v2.status, v2.intervention_role) == (2, "draft", "Deputy director")
    assert v2.roles == plan.versions.get(version=1).roles  # unchanged content carried over
    assert statuses(plan) == [(1, "active"), (2, "draft")]

    plan_svc.oversight_plan_approve(actor=caio_user, plan=plan, version=2)
    assert statuses(plan) == [(1, "archived"), (2, "active")]
    v1 = plan.versions.get(version=1)
    assert v1.archived_at is not None
    assert v1.intervention_role == "Program manager"

    plan_svc.oversight_plan_new_version(
        actor=caio_user, plan=plan, change_summary="New fail-safe", fail_safe="Stop and page the on-call reviewer."
    )
    plan_svc.oversight_plan_approve(actor=staff_user, plan=plan)
    assert statuses(plan) == [(1, "archived"), (2, "archived"), (3, "active")]


def test_author_never_approves_own_version(staff_user, project, use_case, ledger_count):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    before = ledger_count()
    with pytest.raises(NotAllowed, match="Separation of duties"):
        plan_svc.oversight_plan_approve(actor=staff_user, plan=plan)
    assert statuses(plan) == [(1, "draft")]
    assert ledger_count() == before


def test_only_one_draft_at_a_time(staff_user, project, use_case):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    with pytest.raises(Conflict, match="v1 is a draft awaiting approval"):
        plan_svc.oversight_plan_new_version(actor=staff_user, plan=plan, change_summary="x", fail_safe="y")


def test_database_refuses_two_active_versions(project):
    v = PlanVersionFactory(plan__project=project, status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanVersionFactory(plan=v.plan, version=2, status="active")


def test_incomplete_draft_cannot_be_approved(staff_user, caio_user, project, use_case):
    plan = plan_svc.oversight_plan_create(actor=staff_user, project=project, use_case=use_case, name="Bare").plan
    with pytest.raises(ValidationFailed) as exc:
        plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    assert set(exc.value.errors) == {"roles", "escalation_path", "hitl_checkpoints", "intervention_role", "fail_safe"}
    assert statuses(plan) == [(1, "draft")]


def test_fail_safe_may_be_declared_not_practicable(staff_user, caio_user, project, use_case):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user,
        project=project,
        use_case=use_case,
        template="standard_hitl",
        fail_safe="",
        fail_safe_not_applicable_reason="Output is advisory only.",
    ).plan
    assert plan_svc.oversight_plan_approve(actor=caio_user, plan=plan).status == "active"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("roles", [{"role": "Reviewer"}], "item 1: 'assignee' is a required property"),
        ("roles", "reviewer", "Must be a list."),
        (
            "escalation_path",
            [{"level": 2, "role": "A", "trigger": "t"}, {"level": 1, "role": "B", "trigger": "t"}],
            "Escalation levels must be unique and in ascending order.",
        ),
        (
            "hitl_checkpoints",
            [{"decision": "x", "approval_required": "yes", "approver_roles": []}],
            "item 1: 'yes' is not of type 'boolean'",
        ),
    ],
)
def test_malformed_content_is_refused_and_nothing_written(
    field, value, message, staff_user, project, use_case, ledger_count
):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        plan_svc.oversight_plan_create(actor=staff_user, project=project, use_case=use_case, name="P", **{field: value})
    assert exc.value.errors[field] == [message]
    assert OversightPlanVersion.objects.count() == 0
    assert ledger_count() == before


def test_unknown_template_and_foreign_use_case(staff_user, project, other_project):
    with pytest.raises(ValidationFailed) as exc:
        plan_svc.oversight_plan_create(actor=staff_user, project=project, template="nope")
    assert "Unknown template" in exc.value.errors["template"][0]
    foreign = UseCaseFactory(project=other_project)
    with pytest.raises(ValidationFailed) as exc:
        plan_svc.oversight_plan_create(actor=staff_user, project=project, use_case=foreign, name="P")
    assert exc.value.errors["use_case"] == ["The use case belongs to another project."]


def test_a_version_that_changes_nothing_is_refused(staff_user, caio_user, project, use_case):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    with pytest.raises(ValidationFailed, match="changes nothing"):
        plan_svc.oversight_plan_new_version(
            actor=staff_user, plan=plan, change_summary="same", intervention_role="Program manager"
        )


def test_discard_and_retire(staff_user, caio_user, project, use_case):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    plan_svc.oversight_plan_new_version(actor=staff_user, plan=plan, change_summary="x", fail_safe="Manual.")
    with pytest.raises(ValidationFailed):
        plan_svc.oversight_plan_discard_draft(actor=caio_user, plan=plan, reason=" ")
    plan_svc.oversight_plan_discard_draft(actor=caio_user, plan=plan, reason="Superseded by policy change")
    assert statuses(plan) == [(1, "active"), (2, "archived")]
    with pytest.raises(InvalidTransition, match="no draft to approve"):
        plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    # A redraft starts from the active content, not from the discarded draft.
    v3 = plan_svc.oversight_plan_new_version(
        actor=staff_user, plan=plan, change_summary="y", intervention_role="Director"
    )
    assert v3.fail_safe == plan.versions.get(version=1).fail_safe
    plan_svc.oversight_plan_discard_draft(actor=staff_user, plan=plan, reason="not needed")
    plan_svc.oversight_plan_retire(actor=caio_user, plan=plan, reason="Use case retired")
    assert statuses(plan) == [(1, "archived"), (2, "archived"), (3, "archived")]
    with pytest.raises(InvalidTransition, match="no active version"):
        plan_svc.oversight_plan_retire(actor=caio_user, plan=plan, reason="again")


def test_approving_a_non_draft_version_is_refused(staff_user, caio_user, project, use_case):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    plan_svc.oversight_plan_new_version(actor=staff_user, plan=plan, change_summary="x", fail_safe="Manual.")
    with pytest.raises(InvalidTransition, match="v1 is active; only a draft can be approved"):
        plan_svc.oversight_plan_approve(actor=caio_user, plan=plan, version=1)
    with pytest.raises(ValidationFailed):
        plan_svc.oversight_plan_approve(actor=caio_user, plan=plan, version=7)


def test_approval_notifies_the_author_in_app_and_by_mail(
    staff_user, caio_user, project, use_case, mailoutbox, django_capture_on_commit_callbacks
):
    plan = plan_svc.oversight_plan_create(
        actor=staff_user, project=project, use_case=use_case, template="standard_hitl"
    ).plan
    with django_capture_on_commit_callbacks(execute=True):
        plan_svc.oversight_plan_approve(actor=caio_user, plan=plan)
    assert [m.to for m in mailoutbox] == [[staff_user.email]]
    note = staff_user.icdev_notifications.get()
    assert note.kind == "oversight_plan.approved"
    assert note.subject == f"{plan.public_id} v1 approved"
