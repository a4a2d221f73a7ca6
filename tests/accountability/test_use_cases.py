"""The use-case inventory: validation, determinations, guarded stage changes, completeness."""

import pytest
from django.utils import timezone

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.models import AIUseCase, EthicsReview
from accountability.rules.completeness import completeness_report
from accountability.services import use_cases as uc_svc
from tests.factories import PlanVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


def test_create_records_actor_history_and_ledger(staff_user, project, ledger_count):
    before = ledger_count()
    uc = uc_svc.use_case_create(actor=staff_user, project=project, name="Screener", purpose="Rank applications")
    assert uc.public_id == f"UC-{uc.pk:05d}"
    assert (uc.stage, uc.high_impact_determination, uc.created_by) == ("pre_deployment", "not_assessed", staff_user)
    record = uc.history.get()
    assert (record.history_type, record.history_user) == ("+", staff_user)
    assert ledger_count() == before + 1


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"high_impact_determination": "presumed_high_determined_not", "presumed_categories": ["m"]},
            {"high_impact_justification"},
        ),
        ({"high_impact_determination": "not_high", "presumed_categories": ["m"]}, {"high_impact_determination"}),
        ({"high_impact_determination": "high"}, {"high_impact_bases"}),
        ({"high_impact_bases": ["vibes"]}, {"high_impact_bases"}),
        ({"presumed_categories": ["z"]}, {"presumed_categories"}),
        ({"withheld": True}, {"withheld_reason"}),
        ({"development_method": "vendor"}, {"vendor_name"}),
        ({"minimum_practices": {"testing": "done"}}, {"minimum_practices"}),
        ({"minimum_practices": {"vibes": "implemented"}}, {"minimum_practices"}),
        ({"contact_email": "nope"}, {"contact_email"}),
    ],
)
def test_invalid_fields_are_refused_with_field_errors(fields, errors, staff_user, project, ledger_count):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        uc_svc.use_case_create(actor=staff_user, project=project, name="X", **fields)
    assert set(exc.value.errors) == errors
    assert AIUseCase.objects.count() == 0
    assert ledger_count() == before


def test_unknown_fields_and_retired_start_are_refused(staff_user, project):
    with pytest.raises(ValidationFailed) as exc:
        uc_svc.use_case_create(actor=staff_user, project=project, name="X", colour="blue")
    assert exc.value.errors == {"colour": ["Unknown field."]}
    with pytest.raises(ValidationFailed):
        uc_svc.use_case_create(actor=staff_user, project=project, name="X", stage="retired")


def test_update_refuses_stage_and_determination(staff_user, project):
    uc = UseCaseFactory(project=project)
    with pytest.raises(ValidationFailed) as exc:
        uc_svc.use_case_update(actor=staff_user, use_case=uc, stage="deployed", high_impact_determination="high")
    assert set(exc.value.errors) == {"stage", "high_impact_determination"}
    updated = uc_svc.use_case_update(actor=staff_user, use_case=uc, benefits="Shorter queues")
    assert updated.benefits == "Shorter queues"
    assert updated.history.first().history_change_reason.startswith("use case updated")


def test_unchanged_update_writes_nothing(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    uc_svc.use_case_update(actor=staff_user, use_case=uc, name=uc.name)
    assert ledger_count() == before


def test_presumed_determination_records_who_and_why(caio_user, project):
    uc = UseCaseFactory(project=project)
    uc = uc_svc.use_case_record_determination(
        actor=caio_user,
        use_case=uc,
        determination="presumed_high_determined_not",
        presumed_categories=["m"],
        justification="Flags only queue cases for a human.",
    )
    assert (uc.determination_by, uc.presumed_categories) == (caio_user, ["m"])
    assert uc.determination_at is not None


@pytest.mark.parametrize(
    ("start", "target", "ok"),
    [
        ("pre_deployment", "pilot", True),
        ("pre_deployment", "deployed", True),
        ("pilot", "deployed", True),
        ("pilot", "pre_deployment", True),
        ("deployed", "pilot", True),
        ("deployed", "retired", True),
        ("deployed", "pre_deployment", False),
        ("retired", "deployed", False),
        ("retired", "pilot", False),
        ("pilot", "pilot", False),
    ],
)
def test_stage_transitions(start, target, ok, staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project, stage=start)
    before = ledger_count()
    if ok:
        assert uc_svc.use_case_change_stage(actor=staff_user, use_case=uc, stage=target).stage == target
    else:
        with pytest.raises(InvalidTransition):
            uc_svc.use_case_change_stage(actor=staff_user, use_case=uc, stage=target)
        uc.refresh_from_db()
        assert uc.stage == start
        assert ledger_count() == before


def test_high_impact_needs_an_active_plan_to_deploy(staff_user, project):
    uc = UseCaseFactory(project=project, high_impact=True, stage="pilot")
    with pytest.raises(InvalidTransition, match="needs an active oversight plan"):
        uc_svc.use_case_change_stage(actor=staff_user, use_case=uc, stage="deployed")
    PlanVersionFactory(plan__project=project, plan__use_case=uc, status="draft")
    with pytest.raises(InvalidTransition):
        uc_svc.use_case_change_stage(actor=staff_user, use_case=uc, stage="deployed")
    PlanVersionFactory(plan__project=project, plan__use_case=uc, status="active")
    with pytest.raises(InvalidTransition, match="needs a completed ethics review"):
        uc_svc.use_case_change_stage(actor=staff_user, use_case=uc, stage="deployed")
    EthicsReview.objects.create(
        project=project,
        use_case=uc,
        title="Initial review",
        submitted_by=staff_user,
        rubric_key="default",
        rubric_version=1,
        rubric={},
        quorum_rule={},
        score_timeout_days=10,
        status="completed",
        decision="approve",
        completed_at=timezone.now(),
    )
    assert uc_svc.use_case_change_stage(actor=staff_user, use_case=uc, stage="deployed").stage == "deployed"


def test_retired_entries_are_frozen(staff_user, project):
    uc = UseCaseFactory(project=project, stage="retired")
    with pytest.raises(InvalidTransition, match="retired"):
        uc_svc.use_case_update(actor=staff_user, use_case=uc, benefits="x")
    with pytest.raises(InvalidTransition):
        uc_svc.use_case_record_determination(actor=staff_user, use_case=uc, determination="not_high")


def test_completeness_by_stage(project):
    uc = UseCaseFactory(project=project, stage="pre_deployment")
    assert completeness_report(uc).complete
    uc.stage = "pilot"
    report = completeness_report(uc)
    assert [m["field"] for m in report.missing] == [
        "operational_date",
        "development_method",
        "ato_system_name",
        "data_description",
        "involves_pii",
        "demographic_features",
        "has_custom_code",
    ]
    assert report.percent == round(100 * 9 / 16, 1)
    uc.involves_pii, uc.has_custom_code = True, True
    fields = [m["field"] for m in completeness_report(uc).missing]
    assert "pia_url" in fields
    assert "code_url" in fields


def test_completeness_of_high_impact_deployed_asks_for_minimum_practices(project):
    uc = UseCaseFactory(
        project=project,
        stage="deployed",
        high_impact=True,
        minimum_practices={"testing": "implemented", "monitoring": "not_started"},
    )
    missing = {m["field"] for m in completeness_report(uc).missing}
    assert "minimum_practices.testing" not in missing
    assert {"minimum_practices.monitoring", "minimum_practices.fail_safe"} <= missing


def test_ids_are_never_reused(staff_user, project):
    first = uc_svc.use_case_create(actor=staff_user, project=project, name="A")
    second = uc_svc.use_case_create(actor=staff_user, project=project, name="B")
    assert second.pk > first.pk
    assert AIUseCase.pk_from_public_id(second.public_id) == second.pk
