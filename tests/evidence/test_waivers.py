"""Waivers: only the project's active CAIO (non-delegable), yearly recertification, the 30-day OMB window,
and the derived status."""

import datetime as dt

import pytest
import time_machine

from accountability.actors import SystemActor
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from accountability.models import CAIODesignation, Notification, WaivedPractice, Waiver
from accountability.selectors import evidence as sel
from accountability.services import evidence_waivers as svc
from tests.factories import CAIODesignationFactory, UseCaseFactory

from .factories import WaiverFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(dt.datetime(2026, 3, 1, 15, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def designation(project, caio_user):
    return CAIODesignationFactory(project=project, official=caio_user, effective_date=dt.date(2025, 6, 1))


def issue(actor, uc, **overrides):
    args = {
        "use_case": uc,
        "practices": ["public_consultation", "independent_review"],
        "basis": "impedes_operations",
        "determination": "Consultation would delay a statutory deadline.",
        "risk_assessment": "System-specific: outputs are advisory; a caseworker decides.",
    }
    return svc.waiver_issue(actor=actor, **{**args, **overrides})


def test_active_caio_issues_a_waiver(caio_user, designation, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True)
    before = ledger_count()
    waiver = issue(caio_user, uc)
    assert (waiver.issued_by, waiver.caio_designation, waiver.granted_on) == (
        caio_user,
        designation,
        dt.date(2026, 3, 1),
    )
    assert (waiver.next_recertification_due, waiver.grant_omb_report_due) == (dt.date(2027, 3, 1), dt.date(2026, 3, 31))
    assert sorted(WaivedPractice.objects.filter(waiver=waiver).values_list("practice", flat=True)) == [
        "independent_review",
        "public_consultation",
    ]
    assert (waiver.status, waiver.omb_report_overdue_on()) == ("active", False)
    assert ledger_count() == before + 1


@pytest.mark.parametrize("who", ["staff_user", "superuser", "system", "delegate", "former"])
def test_nobody_else_issues_a_waiver(who, request, caio_user, designation, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True)
    if who == "system":
        actor = SystemActor("cli:test")
    elif who == "delegate":
        # The CAIO role without an active designation (e.g. a delegate given the role) is not enough.
        designation.official = None
        designation.save()
        actor = caio_user
    elif who == "former":
        designation.expiry_date = dt.date(2026, 2, 28)
        designation.save()
        actor = caio_user
    else:
        actor = request.getfixturevalue(who)
    before = ledger_count()
    with pytest.raises(NotAllowed, match=r"Only the (active Chief AI Officer|project's active CAIO)"):
        issue(actor, uc)
    assert (Waiver.objects.count(), WaivedPractice.objects.count(), ledger_count()) == (0, 0, before)


def test_outsider_sees_nothing(outsider, designation, project):
    with pytest.raises(NotFound):
        issue(outsider, UseCaseFactory(project=project, high_impact=True))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"practices": []}, "practices", "Name one or more minimum practices"),
        ({"practices": ["telepathy"]}, "practices", "Name one or more minimum practices"),
        ({"practices": ["testing", "testing"]}, "practices", "A practice is listed twice."),
        ({"basis": "convenience"}, "basis", "Must be one of"),
        ({"determination": " "}, "determination", "Required: a waiver rests on a written determination"),
        ({"risk_assessment": ""}, "risk_assessment", "Required: a waiver rests on a written determination"),
        ({"granted_on": dt.date(2026, 3, 2)}, "granted_on", "Cannot be in the future."),
        ({"granted_on": dt.date(2025, 5, 31)}, "granted_on", "Before your designation took effect (2025-06-01)."),
    ],
)
def test_bad_waiver_input_writes_nothing(overrides, field, message, caio_user, designation, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        issue(caio_user, uc, **overrides)
    assert exc.value.errors[field][0].startswith(message)
    assert (Waiver.objects.count(), ledger_count()) == (0, before)


def test_only_high_impact_use_cases_and_no_double_waivers(caio_user, designation, project):
    with pytest.raises(ValidationFailed, match="is not high-impact"):
        issue(caio_user, UseCaseFactory(project=project))
    uc = UseCaseFactory(project=project, high_impact=True)
    first = issue(caio_user, uc, practices=["testing"])
    with pytest.raises(Conflict, match="already has an unrevoked waiver of: testing"):
        issue(caio_user, uc, practices=["monitoring", "testing"])
    svc.waiver_revoke(actor=caio_user, waiver=first, reason="Testing now possible")
    assert issue(caio_user, uc, practices=["testing"]).pk != first.pk


def test_recertification_falls_due_after_a_year(clock, caio_user, designation, project, auditor_user):
    waiver = issue(caio_user, UseCaseFactory(project=project, high_impact=True))
    clock.move_to(dt.datetime(2027, 3, 1, 15, tzinfo=dt.UTC))
    assert Waiver.objects.get().status == "active"  # due today, not overdue
    assert sel.waiver_list(auditor_user).get().current_status == "active"
    clock.move_to(dt.datetime(2027, 3, 2, 15, tzinfo=dt.UTC))
    assert Waiver.objects.get().status == "recertification_overdue"
    assert sel.waiver_list(auditor_user).get().current_status == "recertification_overdue"
    assert Waiver.objects.active().count() == 0
    with pytest.raises(ValidationFailed, match="note"):
        svc.waiver_recertify(actor=caio_user, waiver=waiver, note="")
    waiver = svc.waiver_recertify(actor=caio_user, waiver=waiver, note="Reassessed: impediment persists.")
    assert (waiver.recertified_on, waiver.next_recertification_due, waiver.status) == (
        dt.date(2027, 3, 2),
        dt.date(2028, 3, 1),
        "active",
    )
    assert Waiver.objects.active().count() == 1


def test_recertify_and_revoke_are_caio_only(staff_user, caio_user, designation, project):
    waiver = issue(caio_user, UseCaseFactory(project=project, high_impact=True))
    with pytest.raises(NotAllowed):
        svc.waiver_recertify(actor=staff_user, waiver=waiver, note="n")
    with pytest.raises(NotAllowed):
        svc.waiver_revoke(actor=staff_user, waiver=waiver, reason="r")
    designation.revoked_at, designation.revoked_reason = dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "left"
    designation.save()
    with pytest.raises(NotAllowed, match="Only the active Chief AI Officer"):
        svc.waiver_revoke(actor=caio_user, waiver=waiver, reason="r")
    waiver.refresh_from_db()
    assert waiver.revoked_on is None


def test_omb_reporting_window(clock, staff_user, caio_user, designation, project, auditor_user, ledger_count):
    waiver = issue(caio_user, UseCaseFactory(project=project, high_impact=True))
    clock.move_to(dt.datetime(2026, 3, 31, 15, tzinfo=dt.UTC))
    assert waiver.omb_report_overdue_on() is False  # day 30
    clock.move_to(dt.datetime(2026, 4, 1, 15, tzinfo=dt.UTC))
    assert waiver.omb_report_overdue_on() is True  # day 31
    assert sel.waiver_list(auditor_user).get().omb_report_overdue is True
    with pytest.raises(ValidationFailed, match="Cannot precede the grant"):
        svc.waiver_record_omb_report(actor=staff_user, waiver=waiver, event="grant", reported_on=dt.date(2026, 2, 28))
    before = ledger_count()
    waiver = svc.waiver_record_omb_report(
        actor=staff_user, waiver=waiver, event="grant", reported_on=dt.date(2026, 4, 1)
    )
    assert (waiver.grant_reported_to_omb_on, waiver.omb_report_overdue_on()) == (dt.date(2026, 4, 1), False)
    assert sel.waiver_list(auditor_user).get().omb_report_overdue is False
    assert ledger_count() == before + 1
    assert Notification.objects.filter(recipient=caio_user, kind="waiver.omb_report_late").count() == 1
    # Recording the same date again is a no-op; a different one is refused.
    svc.waiver_record_omb_report(actor=staff_user, waiver=waiver, event="grant", reported_on=dt.date(2026, 4, 1))
    with pytest.raises(InvalidTransition, match="already reported to OMB on 2026-04-01"):
        svc.waiver_record_omb_report(actor=staff_user, waiver=waiver, event="grant", reported_on=dt.date(2026, 3, 30))
    with pytest.raises(InvalidTransition, match="is not revoked"):
        svc.waiver_record_omb_report(
            actor=staff_user, waiver=waiver, event="revocation", reported_on=dt.date(2026, 4, 1)
        )
    assert ledger_count() == before + 1


def test_revocation_starts_its_own_omb_clock(clock, staff_user, caio_user, designation, project):
    waiver = issue(caio_user, UseCaseFactory(project=project, high_impact=True))
    svc.waiver_record_omb_report(actor=staff_user, waiver=waiver, event="grant", reported_on=dt.date(2026, 3, 1))
    clock.move_to(dt.datetime(2026, 5, 1, 15, tzinfo=dt.UTC))
    with pytest.raises(ValidationFailed, match="reason"):
        svc.waiver_revoke(actor=caio_user, waiver=waiver, reason=" ")
    waiver = svc.waiver_revoke(actor=caio_user, waiver=waiver, reason="Practice now implemented")
    assert (waiver.status, waiver.revoked_on, waiver.revocation_omb_report_due) == (
        "revoked",
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 31),
    )
    with pytest.raises(InvalidTransition, match="already revoked"):
        svc.waiver_revoke(actor=caio_user, waiver=waiver, reason="again")
    with pytest.raises(InvalidTransition, match="is revoked"):
        svc.waiver_recertify(actor=caio_user, waiver=waiver, note="n")
    clock.move_to(dt.datetime(2026, 6, 1, 15, tzinfo=dt.UTC))
    assert waiver.omb_report_overdue_on() is True
    svc.waiver_record_omb_report(actor=staff_user, waiver=waiver, event="revocation", reported_on=dt.date(2026, 5, 20))
    waiver.refresh_from_db()
    assert (waiver.revocation_reported_to_omb_on, waiver.omb_report_overdue_on()) == (dt.date(2026, 5, 20), False)


def test_public_summary(staff_user, project):
    waiver = WaiverFactory(use_case__project=project)
    with pytest.raises(ValidationFailed, match="url"):
        svc.waiver_set_public_summary(actor=staff_user, waiver=waiver, url="")
    with pytest.raises(ValidationFailed, match="public_summary_url"):
        svc.waiver_set_public_summary(actor=staff_user, waiver=waiver, url="not a url")
    waiver = svc.waiver_set_public_summary(actor=staff_user, waiver=waiver, url="https://agency.gov/ai/waivers/1")
    assert Waiver.objects.get().public_summary_url == "https://agency.gov/ai/waivers/1"
    assert CAIODesignation.objects.count() == 1
