"""The REST API: incidents, reassessments and the inbox (filters, transitions, errors, scoping)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accountability.models import Incident, Notification, ReassessmentSchedule
from tests.factories import ObligationFactory, StakeholderFactory

from .factories import IncidentFactory, ScheduleFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/ai-accountability"
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


def test_log_an_incident(api, responder_user, project, use_case, ledger_count):
    before = ledger_count()
    with time_machine.travel(T0, tick=False):
        r = api.as_user(responder_user).post(
            f"{BASE}/incidents/",
            {
                "project": "proj-123",
                "title": "Chatbot invented a benefit rule",
                "severity": "critical",
                "incident_type": "confabulation",
                "use_cases": [use_case.public_id],
                "affected_systems": ["PUBLIC-WEB"],
                "source": "Call-centre complaint",
                "detected_at": "2026-03-02T08:00:00Z",
            },
        )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["id"] == Incident.objects.get().public_id
    assert body["status"] == "open"
    assert body["sla"]["due_at"] == "2026-03-05T09:00:00-05:00"
    assert body["sla"]["breached"] is False
    assert body["use_cases"] == [use_case.public_id]
    assert body["allowed_transitions"] == ["investigate"]
    assert body["gv_4_3_002"]["percent"] == 56  # 5 of the 9 GV-4.3-002 fields
    missing = [m["field"] for m in body["gv_4_3_002"]["missing"]]
    assert missing == ["data_reported", "description", "impacts", "stakeholders_impacted"]
    assert body["timeline"][0]["kind"] == "logged"
    assert body["timeline"][0]["ledger_entry_id"].startswith("LED-")
    assert ledger_count() == before + 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"incident_type": "ufo"}, "incident_type"),
        ({"use_cases": ["UC-99999"]}, "use_cases[0]"),
        ({"detected_at": "yesterday"}, "detected_at"),
        ({"detected_at": "2099-01-01T00:00:00Z"}, "detected_at"),
        ({"assigned_to": "nobody"}, "assigned_to"),
        ({"project": "proj-999"}, "project"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(
    api, responder_user, project, payload, field, ledger_count
):
    before = ledger_count()
    data = {"project": "proj-123", "title": "T", "severity": "low", **payload}
    r = api.as_user(responder_user).post(f"{BASE}/incidents/", data)
    assert r.status_code == 400, r.json()
    errors = r.json()["errors"]
    assert any(key.startswith(field.split("[")[0]) for key in errors), errors
    assert ledger_count() == before
    assert not Incident.objects.exists()


def test_transitions_through_the_api(api, responder_user, project):
    incident = IncidentFactory(project=project)
    client = api.as_user(responder_user)
    url = f"{BASE}/incidents/{incident.public_id}"
    assert client.post(f"{url}/investigate/", {}).json()["status"] == "investigating"
    r = client.post(f"{url}/resolve/", {"root_cause": ""})
    assert r.status_code == 400
    assert "root_cause" in r.json()["errors"]
    r = client.post(f"{url}/close/", {"lessons_learned": "x"})
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    r = client.post(f"{url}/resolve/", {"root_cause": "Prompt template bug", "root_cause_tags": ["deployment_failure"]})
    assert r.json()["status"] == "resolved"
    r = client.post(f"{url}/reopen/", {"reason": ""})
    assert r.status_code == 400
    r = client.post(f"{url}/close/", {"lessons_learned": "Review prompt templates"})
    assert r.json()["status"] == "closed"
    assert [e["to_status"] for e in client.get(f"{url}/timeline/").json() if e["kind"] == "status"] == [
        "investigating",
        "resolved",
        "closed",
    ]


def test_filters_by_status_severity_and_due_state(api, auditor_user, project, other_project):
    with time_machine.travel(T0, tick=False):
        IncidentFactory(project=project, severity="critical", title="breached", reported_at=T0 - dt.timedelta(days=9))
        IncidentFactory(project=project, severity="low", title="on track")
        IncidentFactory(project=project, severity="high", title="at risk", sla_due_at=T0 + dt.timedelta(hours=2))
        IncidentFactory(
            project=project, severity="high", title="met", status="resolved", root_cause="x", resolved_at=T0
        )
        IncidentFactory(project=other_project, severity="critical", title="elsewhere")
        client = api.as_user(auditor_user)

        def titles(query):
            return sorted(i["title"] for i in client.get(f"{BASE}/incidents/?{query}").json()["results"])

        assert titles("") == ["at risk", "breached", "met", "on track"]
        assert titles("severity=critical") == ["breached"]
        assert titles("severity=high&severity=low") == ["at risk", "met", "on track"]
        assert titles("status=resolved") == ["met"]
        assert titles("due_state=breached") == ["breached"]
        assert titles("due_state=at_risk") == ["at risk"]
        assert titles("due_state=met") == ["met"]
        assert titles("sla_breached=true") == ["breached"]
        assert titles("is_open=true") == ["at risk", "breached", "on track"]
        breached = client.get(f"{BASE}/incidents/?due_state=breached").json()["results"][0]
        assert breached["sla"]["breached"] is True
        assert breached["sla"]["state"] == "breached"


def test_other_projects_incidents_are_404(api, outsider, project):
    incident = IncidentFactory(project=project)
    client = api.as_user(outsider)
    assert client.get(f"{BASE}/incidents/{incident.public_id}/").status_code == 404
    assert client.post(f"{BASE}/incidents/{incident.public_id}/investigate/", {}).status_code == 404
    assert client.get(f"{BASE}/incidents/").json()["results"] == []
    assert Incident.objects.get(pk=incident.pk).status == "open"


def test_corrective_actions_eu_and_stakeholders(api, responder_user, project, use_case):
    party = StakeholderFactory(use_case=use_case, contact_email="vendor@example.com", name="Acme")
    ObligationFactory(stakeholder=party, sla_metric="incident_notification_hours", sla_target=24)
    client = api.as_user(responder_user)
    with time_machine.travel(T0, tick=False):
        r = client.post(
            f"{BASE}/incidents/",
            {"project": "proj-123", "title": "Bias", "severity": "high", "use_cases": [use_case.public_id]},
        )
        url = f"{BASE}/incidents/{r.json()['id']}"
        notice = r.json()["stakeholder_notices"][0]
        assert notice["party"] == "Acme"
        assert notice["due_at"] == "2026-03-03T09:00:00-05:00"  # 24 h contractual window
        assert notice["notified_at"] is not None  # e-mailed on logging
        r = client.post(
            f"{url}/corrective-actions/", {"description": "Retrain", "due_date": "2026-03-20", "owner_name": "Acme"}
        )
        assert r.status_code == 201, r.json()
        action_id = r.json()["id"]
        r = client.post(f"{url}/corrective-actions/{action_id}/status/", {"status": "done"})
        assert r.json()["status"] == "done"
        r = client.post(f"{url}/corrective-actions/{action_id}/status/", {"status": "open"})
        assert r.status_code == 409
        r = client.post(f"{url}/eu-serious/", {"basis": "death"})
        assert r.json()["eu_ai_act"]["report_due_at"] == "2026-03-12T10:00:00-04:00"  # 10 days; DST began
        r = client.post(f"{url}/eu-notifications/", {"party": "provider"})
        assert r.json()["eu_ai_act"]["provider_notified_at"] is not None
        r = client.post(f"{url}/stakeholders/{party.public_id}/acknowledge/", {"acknowledged_by_name": "R. Alvarez"})
        assert r.status_code == 200, r.json()
        assert r.json()["acknowledged_by_name"] == "R. Alvarez"
        r = client.post(f"{url}/stakeholders/notify/")
        assert r.status_code == 409  # everyone informed already


def test_reassessments_api(api, staff_user, auditor_user, project, use_case):
    client = api.as_user(staff_user)
    with time_machine.travel(T0, tick=False):
        r = client.post(
            f"{BASE}/reassessments/",
            {
                "project": "proj-123",
                "assessment_type": "transparency_audit",
                "frequency_days": 90,
                "use_case": use_case.public_id,
            },
        )
        assert r.status_code == 201, r.json()
        sid = r.json()["id"]
        assert (r.json()["next_due"], r.json()["status"], r.json()["frequency"]) == (
            "2026-05-31",
            "on_track",
            "quarterly",
        )
        r = client.post(
            f"{BASE}/reassessments/", {"project": "proj-123", "assessment_type": "bias_audit", "frequency_days": 0}
        )
        assert r.status_code == 400
        assert "frequency_days" in r.json()["errors"]
        r = client.post(
            f"{BASE}/reassessments/significant-modification/",
            {"use_case": use_case.public_id, "description": "New model"},
        )
        assert [row["status"] for row in r.json()] == ["due"]
        assert client.get(f"{BASE}/reassessments/?status=due").json()["count"] == 1
        assert client.get(f"{BASE}/reassessments/?due_state=overdue").json()["count"] == 0
        r = client.post(f"{BASE}/reassessments/{sid}/complete/", {"evidence_url": "https://e.example.gov/1"})
        assert r.json()["next_due"] == "2026-05-31"
        assert r.json()["completions"][0]["evidence_url"] == "https://e.example.gov/1"
        r = client.post(f"{BASE}/reassessments/{sid}/complete/", {"evidence_url": "not a url"})
        assert r.status_code == 400
    ScheduleFactory(project=project, next_due=dt.date(2026, 1, 1), anchor_date=dt.date(2026, 1, 1))
    with time_machine.travel(T0, tick=False):
        overdue = api.as_user(auditor_user).get(f"{BASE}/reassessments/?status=overdue").json()
    assert overdue["count"] == 1
    assert overdue["results"][0]["status"] == "overdue"
    assert ReassessmentSchedule.objects.get(pk=overdue["results"][0]["id"][4:]).status == "on_track"  # sweep not run


def test_notifications_count_and_read_all(api, staff_user, project):
    for i in range(3):
        Notification.objects.create(recipient=staff_user, kind="k", subject=f"s{i}")
    client = api.as_user(staff_user)
    assert client.get(f"{BASE}/notifications/count/").json() == {"unread": 3}
    assert client.post(f"{BASE}/notifications/read-all/").json() == {"marked": 3}
    assert client.get(f"{BASE}/notifications/count/").json() == {"unread": 0}


def test_auditor_reads_but_cannot_write(api, auditor_user, project, ledger_count):
    incident = IncidentFactory(project=project)
    client = api.as_user(auditor_user)
    assert client.get(f"{BASE}/incidents/{incident.public_id}/").status_code == 200
    assert client.get(f"{BASE}/incidents/{incident.public_id}/history/").status_code == 200
    before = ledger_count()
    r = client.post(f"{BASE}/incidents/{incident.public_id}/investigate/", {})
    assert r.status_code == 403
    assert r.json()["code"] == "not_allowed"
    r = client.post(f"{BASE}/incidents/", {"project": "proj-123", "title": "T", "severity": "low"})
    assert r.status_code == 403
    assert ledger_count() == before
    assert Incident.objects.get(pk=incident.pk).status == "open"
    assert Incident.objects.count() == 1
