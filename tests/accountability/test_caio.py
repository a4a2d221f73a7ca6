"""CAIO designations: overlap rules, derived status, revocation, delegation chains, OMB notice."""

import datetime as dt

import pytest
import time_machine

from accountability.exceptions import Conflict, InvalidTransition, ValidationFailed
from accountability.models import CAIODesignation, Membership
from accountability.selectors import registry as sel
from accountability.services import caio as caio_svc
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC)  # midday in the portal's time zone
TODAY = NOON.date()


def designate(actor, project, **kw):
    args = {
        "official_name": "Jane Smith",
        "official_email": "Jane@Agency.gov",
        "authority_scope": "agency",
        "effective_date": dt.date(2026, 1, 1),
    }
    return caio_svc.caio_designate(actor=actor, project=project, **{**args, **kw})


def link(email, scope="program", powers=("inventory",), start="2026-02-01", end=None, name="Delegate"):
    return {
        "delegate_name": name,
        "delegate_email": email,
        "scope": scope,
        "powers": list(powers),
        "start_date": start,
        "end_date": end,
    }


@time_machine.travel(NOON, tick=False)
def test_designation_grants_the_caio_role_and_normalises(staff_user, project):
    official = UserFactory(username="jane")
    d = designate(staff_user, project, official=official)
    assert d.public_id == f"CAIO-{d.pk:05d}"
    assert d.official_email == "jane@agency.gov"
    assert d.status == "active"
    assert Membership.objects.filter(project=project, user=official, role="caio").exists()
    assert sel.caio_current(staff_user, project) == d


@time_machine.travel(NOON, tick=False)
def test_status_is_derived_from_dates_and_revocation(staff_user, project):
    d = designate(staff_user, project, effective_date=dt.date(2026, 12, 1), expiry_date=dt.date(2027, 6, 30))
    assert d.status == "scheduled"
    assert d.status_on(dt.date(2027, 1, 1)) == "active"
    assert d.status_on(dt.date(2027, 7, 1)) == "expired"
    annotated = sel.caio_list(staff_user, project).get()
    assert annotated.current_status == "scheduled"
    with time_machine.travel(dt.datetime(2027, 7, 1, 17, tzinfo=dt.UTC), tick=False):
        assert CAIODesignation.objects.with_status().get().current_status == "expired"
        assert not CAIODesignation.objects.active().exists()


@time_machine.travel(NOON, tick=False)
def test_overlapping_designation_refused_unless_replace(staff_user, project):
    official = UserFactory(username="jane")
    first = designate(staff_user, project, official=official)
    with pytest.raises(Conflict, match=first.public_id):
        designate(staff_user, project, official_name="Bob", official_email="bob@agency.gov")
    second = designate(staff_user, project, official_name="Bob", official_email="bob@agency.gov", replace=True)
    first.refresh_from_db()
    assert first.status == "revoked"
    assert first.revoked_reason == f"Superseded by {second.public_id}"
    assert not Membership.objects.filter(project=project, user=official, role="caio").exists()
    # Non-overlapping periods need no replace.
    designate(
        staff_user,
        project,
        official_name="Carol",
        official_email="carol@agency.gov",
        effective_date=dt.date(2020, 1, 1),
        expiry_date=dt.date(2020, 12, 31),
    )


@time_machine.travel(NOON, tick=False)
def test_revocation_needs_a_reason_and_happens_once(staff_user, project, ledger_count):
    d = designate(staff_user, project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        caio_svc.caio_revoke(actor=staff_user, designation=d, reason="  ")
    assert exc.value.errors == {"reason": ["Give the reason for the revocation."]}
    assert ledger_count() == before
    caio_svc.caio_revoke(actor=staff_user, designation=d, reason="Left the agency")
    with pytest.raises(InvalidTransition, match="already revoked"):
        caio_svc.caio_revoke(actor=staff_user, designation=d, reason="again")
    d.refresh_from_db()
    assert (d.status, d.revoked_by, d.revoked_reason) == ("revoked", staff_user, "Left the agency")


@time_machine.travel(NOON, tick=False)
def test_bad_designation_input(staff_user, project):
    with pytest.raises(ValidationFailed) as exc:
        designate(staff_user, project, official_email="not-an-email", authority_scope="galaxy")
    assert set(exc.value.errors) == {"official_email", "authority_scope"}
    with pytest.raises(ValidationFailed) as exc:
        designate(staff_user, project, effective_date=dt.date(2026, 5, 1), expiry_date=dt.date(2026, 4, 1))
    assert "__all__" in exc.value.errors or "expiry_date" in exc.value.errors
    assert CAIODesignation.objects.count() == 0


@time_machine.travel(NOON, tick=False)
def test_valid_chain_is_normalised(staff_user, project):
    d = designate(
        staff_user,
        project,
        delegation_chain=[
            link("A@agency.gov", "program", ["inventory", "appeal_escalation"]),
            link("b@agency.gov", "project", ["appeal_escalation"], start="2026-03-01", end="2026-12-31"),
        ],
    )
    assert [(x["delegate_email"], x["delegated_by"], x["scope"]) for x in d.delegation_chain] == [
        ("a@agency.gov", "jane@agency.gov", "program"),
        ("b@agency.gov", "a@agency.gov", "project"),
    ]


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ([link("jane@agency.gov")], "delegate 1: jane@agency.gov already holds this authority higher in the chain"),
        ([link("a@agency.gov"), link("a@agency.gov", "project")], "delegate 2: a@agency.gov already holds"),
        (
            [link("a@agency.gov", "project"), link("b@agency.gov", "program")],
            "delegate 2: scope 'program' is wider than the delegator's scope 'project'.",
        ),
        ([link("a@agency.gov", powers=["waiver"])], "delegate 1: 'waiver' authority is not delegable"),
        (
            [link("a@agency.gov", powers=["inventory"]), link("b@agency.gov", "project", ["risk_acceptance"])],
            "delegate 2: 'risk_acceptance' was not delegated to the delegator.",
        ),
        ([link("a@agency.gov", start="2025-12-01")], "delegate 1: starts before the delegator's authority"),
        ([link("a@agency.gov", start="2026-03-01", end="2026-02-01")], "delegate 1: end_date is before start_date."),
        ([link("a@agency.gov", powers=[])], "delegate 1: list at least one delegated power."),
        ([link("a@agency.gov", start=None)], "delegate 1: start_date is required."),
        ([{**link("a@agency.gov"), "colour": "blue"}], "delegate 1: unknown field(s) colour."),
    ],
)
@time_machine.travel(NOON, tick=False)
def test_invalid_chains_are_refused(chain, message, staff_user, project, ledger_count):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        designate(staff_user, project, delegation_chain=chain)
    assert any(m.startswith(message) for m in exc.value.errors["delegation_chain"]), exc.value.errors
    assert CAIODesignation.objects.count() == 0
    assert ledger_count() == before


@time_machine.travel(NOON, tick=False)
def test_delegate_end_bounded_by_designation_expiry(staff_user, project):
    with pytest.raises(ValidationFailed) as exc:
        designate(staff_user, project, expiry_date=dt.date(2026, 12, 31), delegation_chain=[link("a@agency.gov")])
    assert "must end no later than the delegator's authority (2026-12-31)" in exc.value.errors["delegation_chain"][0]


@time_machine.travel(NOON, tick=False)
def test_add_and_withdraw_delegates(staff_user, project):
    official = UserFactory(username="jane")
    d = designate(staff_user, project, official=official)
    # The designated official delegates their own authority without governance-staff rights.
    d = caio_svc.caio_add_delegation(
        actor=official,
        designation=d,
        delegate_name="A",
        delegate_email="a@agency.gov",
        scope="program",
        powers=["inventory", "appeal_escalation"],
        start_date=dt.date(2026, 2, 1),
    )
    d = caio_svc.caio_add_delegation(
        actor=staff_user,
        designation=d,
        delegate_name="B",
        delegate_email="b@agency.gov",
        scope="project",
        powers=["appeal_escalation"],
    )
    assert d.delegation_chain[1]["start_date"] == TODAY.isoformat()
    with pytest.raises(ValidationFailed):
        caio_svc.caio_add_delegation(
            actor=staff_user,
            designation=d,
            delegate_name="C",
            delegate_email="c@agency.gov",
            scope="agency",
            powers=["appeal_escalation"],
        )
    d = caio_svc.caio_remove_delegation(actor=staff_user, designation=d, position=1, reason="Reorganisation")
    assert d.delegation_chain == []  # withdrawing a link withdraws everything below it
    with pytest.raises(ValidationFailed, match="There are no delegates"):
        caio_svc.caio_remove_delegation(actor=staff_user, designation=d, position=1, reason="x")


@time_machine.travel(NOON, tick=False)
def test_revoked_designation_cannot_delegate(staff_user, project):
    d = designate(staff_user, project)
    caio_svc.caio_revoke(actor=staff_user, designation=d, reason="gone")
    with pytest.raises(InvalidTransition, match="is revoked; it cannot delegate"):
        caio_svc.caio_add_delegation(
            actor=staff_user,
            designation=d,
            delegate_name="A",
            delegate_email="a@agency.gov",
            scope="program",
            powers=["inventory"],
        )


@time_machine.travel(NOON, tick=False)
def test_omb_notification(staff_user, project):
    d = designate(staff_user, project)
    with pytest.raises(ValidationFailed):
        caio_svc.caio_record_omb_notification(actor=staff_user, designation=d, notified_on=dt.date(2027, 1, 1))
    d = caio_svc.caio_record_omb_notification(actor=staff_user, designation=d, notified_on=dt.date(2026, 1, 20))
    assert d.omb_notified_at == dt.date(2026, 1, 20)
    status = sel.caio_status(staff_user, project)
    assert (status["has_active_caio"], status["omb_notified"], status["caio_required"]) == (True, True, True)
