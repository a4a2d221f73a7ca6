"""Shared accountability: shares never exceed 100 %, re-allocation totals exactly 100 %, obligations."""

from decimal import Decimal

import pytest

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.selectors import registry as sel
from accountability.services import stakeholders as sh_svc
from tests.factories import ObligationFactory, StakeholderFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def use_case(project):
    return UseCaseFactory(project=project)


def add(actor, use_case, name, share, role="ai_tool_provider"):
    return sh_svc.stakeholder_add(actor=actor, use_case=use_case, name=name, role=role, responsibility_share=share)


def test_shares_accumulate_up_to_one_hundred(staff_user, use_case, ledger_count):
    add(staff_user, use_case, "Vendor", 40)
    add(staff_user, use_case, "Integrator", "35.5", "system_integrator")
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        add(staff_user, use_case, "Deployer", 25, "deployer")
    assert exc.value.errors["responsibility_share"] == [
        f"The shares of {use_case.public_id} would total 100.50%; at most 24.50% is unallocated."
    ]
    assert ledger_count() == before
    add(staff_user, use_case, "Deployer", "24.5", "deployer")
    allocation = sel.responsibility_allocation(staff_user, use_case)
    assert (allocation["allocated"], allocation["complete"]) == ("100.00", True)


@pytest.mark.parametrize("share", [0, -5, 101, "abc"])
def test_share_must_be_a_positive_percentage(share, staff_user, use_case):
    with pytest.raises(ValidationFailed) as exc:
        add(staff_user, use_case, "Vendor", share)
    assert "responsibility_share" in exc.value.errors


def test_update_checks_the_total_without_counting_itself(staff_user, use_case):
    a = add(staff_user, use_case, "A", 60)
    add(staff_user, use_case, "B", 40, "deployer")
    with pytest.raises(ValidationFailed):
        sh_svc.stakeholder_update(actor=staff_user, stakeholder=a, responsibility_share=61)
    assert (
        sh_svc.stakeholder_update(actor=staff_user, stakeholder=a, responsibility_share=55).responsibility_share == 55
    )


def test_reallocation_must_cover_every_party_and_total_100(staff_user, use_case):
    a, b = add(staff_user, use_case, "A", 50), add(staff_user, use_case, "B", 30, "deployer")
    with pytest.raises(ValidationFailed, match="missing"):
        sh_svc.stakeholder_set_shares(actor=staff_user, use_case=use_case, shares={a.public_id: 100})
    with pytest.raises(ValidationFailed, match=r"total 90\.00%"):
        sh_svc.stakeholder_set_shares(actor=staff_user, use_case=use_case, shares={a.public_id: 60, b.public_id: 30})
    parties = sh_svc.stakeholder_set_shares(
        actor=staff_user, use_case=use_case, shares={a.public_id: 70, b.public_id: 30}
    )
    assert sorted(p.responsibility_share for p in parties) == [Decimal(30), Decimal(70)]


def test_deactivation_releases_the_share(staff_user, use_case):
    a = add(staff_user, use_case, "A", 80)
    sh_svc.stakeholder_deactivate(actor=staff_user, stakeholder=a, reason="Contract ended")
    add(staff_user, use_case, "B", 100)
    with pytest.raises(InvalidTransition):
        sh_svc.stakeholder_update(actor=staff_user, stakeholder=a, name="again")
    with pytest.raises(InvalidTransition):
        sh_svc.obligation_add(actor=staff_user, stakeholder=a, description="x")


def test_obligations_and_their_transitions(staff_user, project):
    party = StakeholderFactory(use_case__project=project)
    with pytest.raises(ValidationFailed) as exc:
        sh_svc.obligation_add(
            actor=staff_user, stakeholder=party, description="Respond", sla_metric="defect_response_hours"
        )
    assert exc.value.errors == {"sla_target": ["An SLA metric needs a target."]}
    obligation = sh_svc.obligation_add(
        actor=staff_user, stakeholder=party, description="Respond", sla_metric="defect_response_hours", sla_target=48
    )
    with pytest.raises(ValidationFailed):
        sh_svc.obligation_set_status(actor=staff_user, obligation=obligation, status="breached")
    sh_svc.obligation_set_status(actor=staff_user, obligation=obligation, status="breached", note="72 h response")
    sh_svc.obligation_set_status(actor=staff_user, obligation=obligation, status="ended")
    with pytest.raises(InvalidTransition, match="cannot move from ended to active"):
        sh_svc.obligation_set_status(actor=staff_user, obligation=obligation, status="active")
    assert [h.status for h in obligation.history.order_by("history_id")] == ["active", "breached", "ended"]


def test_obligation_factory_rows_are_listed_per_project(staff_user, outsider, project):
    ObligationFactory(stakeholder__use_case__project=project)
    assert sel.obligation_list(staff_user).count() == 1
    assert sel.obligation_list(outsider).count() == 0
