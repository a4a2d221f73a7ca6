"""The remediation lifecycle: every legal and illegal transition, and each guard."""

from __future__ import annotations

import pytest

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.models import CorrectiveAction, Incident, IncidentEvent
from accountability.services import incident_lifecycle as life

from .factories import CorrectiveActionFactory

S = Incident.Status
pytestmark = pytest.mark.django_db

ARGS = {
    "investigate": {},
    "mitigate": {"note": "Disabled the feature flag."},
    "resolve": {"root_cause": "Training data gap", "root_cause_tags": ["data_consent"], "lessons_learned": ""},
    "close": {"lessons_learned": "Add a validation step."},
    "reopen": {"reason": "The defect came back."},
}
SERVICES = {
    "investigate": life.incident_investigate,
    "mitigate": life.incident_mitigate,
    "resolve": life.incident_resolve,
    "close": life.incident_close,
    "reopen": life.incident_reopen,
}
LEGAL = {
    (S.OPEN, "investigate"): S.INVESTIGATING,
    (S.MITIGATED, "investigate"): S.INVESTIGATING,
    (S.INVESTIGATING, "mitigate"): S.MITIGATED,
    (S.INVESTIGATING, "resolve"): S.RESOLVED,
    (S.MITIGATED, "resolve"): S.RESOLVED,
    (S.RESOLVED, "close"): S.CLOSED,
    (S.RESOLVED, "reopen"): S.INVESTIGATING,
    (S.CLOSED, "reopen"): S.INVESTIGATING,
}
ALL = [(status, name) for status in S.values for name in SERVICES]


@pytest.mark.parametrize(("status", "name"), [k for k in ALL if k in LEGAL])
def test_legal_transition(status, name, make_incident, responder_user, ledger_count):
    incident = make_incident(status)
    before = ledger_count()
    result = SERVICES[name](actor=responder_user, incident=incident, **ARGS[name])
    assert result.status == LEGAL[(status, name)]
    assert Incident.objects.get(pk=incident.pk).status == LEGAL[(status, name)]
    assert ledger_count() == before + 1
    event = incident.events.filter(kind=IncidentEvent.Kind.STATUS).get()
    assert (event.from_status, event.to_status) == (status, LEGAL[(status, name)])
    assert event.ledger_entry_id.startswith("LED-")
    assert event.actor_label == "responder"


@pytest.mark.parametrize(("status", "name"), [k for k in ALL if k not in LEGAL])
def test_illegal_transition_changes_nothing(status, name, make_incident, responder_user, ledger_count):
    incident = make_incident(status)
    before, history = ledger_count(), incident.history.count()
    with pytest.raises(InvalidTransition):
        SERVICES[name](actor=responder_user, incident=incident, **ARGS[name])
    assert Incident.objects.get(pk=incident.pk).status == status
    assert ledger_count() == before
    assert incident.history.count() == history
    assert not incident.events.filter(kind=IncidentEvent.Kind.STATUS).exists()


def test_resolve_needs_a_root_cause(make_incident, responder_user, ledger_count):
    incident = make_incident(S.INVESTIGATING)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        life.incident_resolve(actor=responder_user, incident=incident, root_cause="  ")
    assert "root_cause" in exc.value.errors
    assert Incident.objects.get(pk=incident.pk).status == S.INVESTIGATING
    assert ledger_count() == before


def test_resolve_rejects_unknown_tags(make_incident, responder_user):
    incident = make_incident(S.INVESTIGATING)
    with pytest.raises(ValidationFailed) as exc:
        life.incident_resolve(actor=responder_user, incident=incident, root_cause="x", root_cause_tags=["bad"])
    assert "root_cause_tags" in exc.value.errors


def test_resolve_sets_resolved_at_and_tags(make_incident, responder_user):
    incident = make_incident(S.MITIGATED)
    life.incident_resolve(
        actor=responder_user,
        incident=incident,
        root_cause="Verification skipped",
        root_cause_tags=["verification_failure", "governance_failure"],
        lessons_learned="Gate releases on verification.",
    )
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert incident.root_cause_tags == ["verification_failure", "governance_failure"]
    assert incident.lessons_learned == "Gate releases on verification."


def test_close_needs_lessons_learned(make_incident, responder_user, ledger_count):
    incident = make_incident(S.RESOLVED)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        life.incident_close(actor=responder_user, incident=incident, lessons_learned="")
    assert "lessons_learned" in exc.value.errors
    assert ledger_count() == before


def test_close_uses_lessons_recorded_at_resolution(make_incident, responder_user):
    incident = make_incident(S.RESOLVED, lessons_learned="Known lesson")
    life.incident_close(actor=responder_user, incident=incident)
    incident.refresh_from_db()
    assert (incident.status, incident.lessons_learned) == (S.CLOSED, "Known lesson")
    assert incident.closed_at is not None


def test_close_refuses_open_corrective_actions(make_incident, responder_user, ledger_count):
    incident = make_incident(S.RESOLVED)
    CorrectiveActionFactory(incident=incident, status=CorrectiveAction.Status.IN_PROGRESS)
    before = ledger_count()
    with pytest.raises(InvalidTransition, match="open corrective action"):
        life.incident_close(actor=responder_user, incident=incident, lessons_learned="L")
    assert ledger_count() == before


def test_reopen_needs_a_reason_and_clears_the_resolution(make_incident, responder_user, ledger_count):
    incident = make_incident(S.CLOSED)
    before = ledger_count()
    with pytest.raises(ValidationFailed):
        life.incident_reopen(actor=responder_user, incident=incident, reason=" ")
    assert ledger_count() == before
    life.incident_reopen(actor=responder_user, incident=incident, reason="Regression seen again")
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at, incident.closed_at, incident.reopen_count) == (
        S.INVESTIGATING,
        None,
        None,
        1,
    )
    assert "Regression seen again" in incident.events.get(kind="status").message


def test_mitigate_needs_a_note(make_incident, responder_user):
    incident = make_incident(S.INVESTIGATING)
    with pytest.raises(ValidationFailed):
        life.incident_mitigate(actor=responder_user, incident=incident, note="")
    assert Incident.objects.get(pk=incident.pk).status == S.INVESTIGATING
