"""Every registry write against every role: allowed roles succeed; everyone else is refused, and a
refusal changes nothing (rows and history) and writes no ledger entry."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.apps import apps

from accountability.ledger.selectors import appended_count
from accountability.models import Membership
from accountability.services import caio as caio_svc
from accountability.services import oversight as plan_svc
from accountability.services import projects as project_svc
from accountability.services import stakeholders as sh_svc
from accountability.services import use_cases as uc_svc
from tests.factories import (
    COMPLETE_PLAN,
    CAIODesignationFactory,
    ObligationFactory,
    PlanVersionFactory,
    StakeholderFactory,
    UseCaseFactory,
    UserFactory,
)
from tests.role_writes import assert_write_obeys_roles

PERSONAS = [
    "governance_staff",
    "caio",
    "reviewer",
    "ethics_board",
    "incident_responder",
    "auditor",
    "appellant",
    "outsider",
]
EDITORS = {"governance_staff", "caio"}
STAFF_ONLY = {"governance_staff"}


@pytest.fixture
def world(project):
    author = UserFactory(username="author")
    Membership.objects.create(project=project, user=author, role=Membership.Role.GOVERNANCE_STAFF)
    use_case = UseCaseFactory(project=project)
    draft = PlanVersionFactory(plan__project=project, plan__use_case=use_case, created_by=author)
    active_plan = PlanVersionFactory(plan__project=project, plan__use_case=use_case, status="active")
    designation = CAIODesignationFactory(
        project=project,
        delegation_chain=[
            {
                "delegate_name": "D",
                "delegate_email": "d@agency.gov",
                "scope": "program",
                "scope_ref": "",
                "powers": ["inventory"],
                "start_date": "2025-02-01",
                "end_date": None,
                "delegated_by": "jane@agency.gov",
            }
        ],
    )
    stakeholder = StakeholderFactory(use_case=use_case, responsibility_share=60)
    obligation = ObligationFactory(stakeholder=stakeholder)
    newcomer = UserFactory(username="newcomer")
    return SimpleNamespace(
        project=project,
        use_case=use_case,
        plan=draft.plan,
        active_plan=active_plan.plan,
        designation=designation,
        stakeholder=stakeholder,
        obligation=obligation,
        newcomer=newcomer,
    )


WRITES = {
    "project_update": (STAFF_ONLY, lambda w, a: project_svc.project_update(actor=a, project=w.project, name="New")),
    "membership_grant": (
        STAFF_ONLY,
        lambda w, a: project_svc.membership_grant(actor=a, project=w.project, user=w.newcomer, role="reviewer"),
    ),
    "use_case_create": (EDITORS, lambda w, a: uc_svc.use_case_create(actor=a, project=w.project, name="New UC")),
    "use_case_update": (EDITORS, lambda w, a: uc_svc.use_case_update(actor=a, use_case=w.use_case, benefits="More")),
    "use_case_record_determination": (
        EDITORS,
        lambda w, a: uc_svc.use_case_record_determination(
            actor=a, use_case=w.use_case, determination="high", bases=["access"]
        ),
    ),
    "use_case_change_stage": (
        EDITORS,
        lambda w, a: uc_svc.use_case_change_stage(actor=a, use_case=w.use_case, stage="pilot"),
    ),
    "caio_designate": (
        STAFF_ONLY,
        lambda w, a: caio_svc.caio_designate(
            actor=a,
            project=w.project,
            official_name="New",
            official_email="new@agency.gov",
            authority_scope="agency",
            replace=True,
            reason="successor",
        ),
    ),
    "caio_revoke": (STAFF_ONLY, lambda w, a: caio_svc.caio_revoke(actor=a, designation=w.designation, reason="r")),
    "caio_add_delegation": (
        STAFF_ONLY,
        lambda w, a: caio_svc.caio_add_delegation(
            actor=a,
            designation=w.designation,
            delegate_name="E",
            delegate_email="e@agency.gov",
            scope="project",
            powers=["inventory"],
            start_date=dt.date(2025, 3, 1),
        ),
    ),
    "caio_remove_delegation": (
        STAFF_ONLY,
        lambda w, a: caio_svc.caio_remove_delegation(actor=a, designation=w.designation, position=1, reason="r"),
    ),
    "caio_record_omb_notification": (
        STAFF_ONLY,
        lambda w, a: caio_svc.caio_record_omb_notification(
            actor=a, designation=w.designation, notified_on=dt.date(2025, 1, 20)
        ),
    ),
    "oversight_plan_create": (
        EDITORS,
        lambda w, a: plan_svc.oversight_plan_create(actor=a, project=w.project, use_case=w.use_case, name="Plan"),
    ),
    "oversight_plan_new_version": (
        EDITORS,
        lambda w, a: plan_svc.oversight_plan_new_version(
            actor=a, plan=w.active_plan, change_summary="c", intervention_role="Director"
        ),
    ),
    "oversight_plan_approve": (EDITORS, lambda w, a: plan_svc.oversight_plan_approve(actor=a, plan=w.plan)),
    "oversight_plan_discard_draft": (
        EDITORS,
        lambda w, a: plan_svc.oversight_plan_discard_draft(actor=a, plan=w.plan, reason="r"),
    ),
    "oversight_plan_retire": (
        EDITORS,
        lambda w, a: plan_svc.oversight_plan_retire(actor=a, plan=w.active_plan, reason="r"),
    ),
    "stakeholder_add": (
        EDITORS,
        lambda w, a: sh_svc.stakeholder_add(
            actor=a, use_case=w.use_case, name="New party", role="deployer", responsibility_share=10
        ),
    ),
    "stakeholder_update": (
        EDITORS,
        lambda w, a: sh_svc.stakeholder_update(actor=a, stakeholder=w.stakeholder, responsibility_share=70),
    ),
    "stakeholder_set_shares": (
        EDITORS,
        lambda w, a: sh_svc.stakeholder_set_shares(actor=a, use_case=w.use_case, shares={w.stakeholder.public_id: 100}),
    ),
    "stakeholder_deactivate": (
        EDITORS,
        lambda w, a: sh_svc.stakeholder_deactivate(actor=a, stakeholder=w.stakeholder, reason="r"),
    ),
    "obligation_add": (
        EDITORS,
        lambda w, a: sh_svc.obligation_add(actor=a, stakeholder=w.stakeholder, description="Report incidents"),
    ),
    "obligation_set_status": (
        EDITORS,
        lambda w, a: sh_svc.obligation_set_status(actor=a, obligation=w.obligation, status="met"),
    ),
}


def snapshot() -> dict:
    """Row counts and latest history ids of every accountability model (and the ledger size)."""
    state = {}
    for model in apps.get_app_config("accountability").get_models():
        state[model._meta.label] = model.objects.count()
        if model._meta.label.startswith("accountability.Historical"):
            state[model._meta.label + ".last"] = (
                model.objects.order_by("-history_id").values_list("history_id", flat=True).first()
            )
    state["ledger"] = appended_count()  # queued (PostgreSQL) and integrated entries alike
    return state


@pytest.mark.django_db
@pytest.mark.parametrize("persona_name", PERSONAS)
@pytest.mark.parametrize("operation", sorted(WRITES))
def test_role_matrix(operation, persona_name, world, persona, ledger_count):
    allowed, call = WRITES[operation]
    assert_write_obeys_roles(call, world, persona(persona_name), persona_name, allowed, snapshot, ledger_count)


@pytest.mark.django_db
@pytest.mark.parametrize("operation", sorted(WRITES))
def test_superuser_may_do_every_write(operation, world, superuser, ledger_count):
    _allowed, call = WRITES[operation]
    before = ledger_count()
    call(world, superuser)
    assert ledger_count() > before


@pytest.mark.django_db
def test_complete_plan_fixture_is_approvable(world, staff_user):
    # Guards the matrix above: the approve row succeeds for the right reason, not by accident.
    version = plan_svc.oversight_plan_approve(actor=staff_user, plan=world.plan)
    assert version.status == "active"
    assert version.roles == COMPLETE_PLAN["roles"]
