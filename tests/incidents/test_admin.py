"""The admin is product: incidents with their timeline and a button per transition, the SLA filter,
schedules with due and overdue filters, webhooks and their delivery log; all writes go through services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accountability.models import Incident, IncidentStakeholderNotice, ReassessmentSchedule, Webhook, WebhookDelivery
from tests.factories import StakeholderFactory

from .factories import CorrectiveActionFactory, IncidentFactory, ScheduleFactory, WebhookFactory

pytestmark = pytest.mark.django_db
ADMIN = "/admin/accountability"


@pytest.fixture
def responder_client(client, responder_user):
    client.force_login(responder_user)
    return client


def test_changelist_with_sla_filter(responder_client, project, other_project):
    IncidentFactory(project=project, title="Late one", breached=True)
    IncidentFactory(
        project=project,
        title="EU one",
        eu_serious=True,
        eu_basis="death",
        eu_report_due_at=timezone.now() - dt.timedelta(hours=1),
    )
    IncidentFactory(project=project, title="Fresh one")
    IncidentFactory(project=other_project, title="Not ours")
    page = responder_client.get(f"{ADMIN}/incident/").content.decode()
    assert "Late one" in page
    assert "Fresh one" in page
    assert '<span style="color:#b00020">' in page  # the late EU report
    assert "Not ours" not in page
    breached = responder_client.get(f"{ADMIN}/incident/?sla=breached").content.decode()
    assert "Late one" in breached
    assert "Fresh one" not in breached
    assert ">breached<" in breached


def test_change_page_shows_timeline_and_only_legal_transitions(responder_client, project):
    incident = IncidentFactory(project=project)
    page = responder_client.get(f"{ADMIN}/incident/{incident.pk}/change/").content.decode()
    assert "timeline" in page.lower()
    assert f"{ADMIN}/incident/{incident.pk}/do/investigate/" in page
    assert "/do/resolve/" not in page
    assert "/do/close/" not in page


def test_transition_buttons_call_the_services(responder_client, project, ledger_count):
    incident = IncidentFactory(project=project)
    url = f"{ADMIN}/incident/{incident.pk}/do"
    r = responder_client.post(f"{url}/investigate/", {"note": "Looking"})
    assert r.status_code == 302
    before = ledger_count()
    page = responder_client.post(f"{url}/resolve/", {"root_cause": ""}).content.decode()
    assert "This field is required" in page
    assert ledger_count() == before
    r = responder_client.post(
        f"{url}/resolve/", {"root_cause": "Bad prompt", "root_cause_tags": ["deployment_failure"]}
    )
    assert r.status_code == 302
    page = responder_client.post(f"{url}/close/", {"lessons_learned": ""}).content.decode()
    assert "Closing needs the lessons learned" in page
    responder_client.post(f"{url}/close/", {"lessons_learned": "Test prompts"})
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert list(incident.events.filter(kind="status").values_list("to_status", flat=True)) == [
        "investigating",
        "resolved",
        "closed",
    ]
    r = responder_client.post(f"{url}/investigate/", {"note": ""})
    assert "cannot investigate" in r.content.decode()


def test_log_an_incident_in_the_admin(responder_client, project, use_case):
    r = responder_client.post(
        f"{ADMIN}/incident/add/",
        {
            "project": project.pk,
            "title": "Agent pushed a secret",
            "incident_type": "agent_misuse",
            "severity": "",
            "use_cases": [use_case.pk],
            "affected_systems": "DEV-PLATFORM\nCI",
            "description": "",
            "source": "",
            "data_reported": "",
            "impacts": "",
            "stakeholders_impacted": "",
            "reporter_name": "",
        },
    )
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    incident = Incident.objects.get()
    assert (incident.severity, incident.affected_systems) == ("high", ["DEV-PLATFORM", "CI"])
    assert list(incident.use_cases.all()) == [use_case]
    assert incident.events.filter(kind="logged").exists()


def test_acknowledgement_action_lists_the_incidents_parties(responder_client, project, use_case):
    incident = IncidentFactory(project=project)
    party = StakeholderFactory(use_case=use_case, name="Acme")
    notice = IncidentStakeholderNotice.objects.create(
        project=project, incident=incident, stakeholder=party, due_at=timezone.now()
    )
    url = f"{ADMIN}/incident/{incident.pk}/do/ack/"
    assert "Acme (due" in responder_client.get(url).content.decode()
    responder_client.post(url, {"notice": notice.pk, "record_notice_only": "on", "channel": "phone"})
    r = responder_client.post(url, {"notice": notice.pk, "channel": "phone", "acknowledged_by_name": "Vendor PM"})
    assert r.status_code == 302
    notice.refresh_from_db()
    assert (notice.channel, notice.acknowledged_by_name) == ("phone", "Vendor PM")


def test_corrective_action_admin(responder_client, project):
    action = CorrectiveActionFactory(incident=IncidentFactory(project=project), due_date=dt.date(2020, 1, 1))
    page = responder_client.get(f"{ADMIN}/correctiveaction/").content.decode()
    assert action.public_id in page
    r = responder_client.post(f"{ADMIN}/correctiveaction/{action.pk}/do/status/", {"status": "done"})
    assert r.status_code == 302
    action.refresh_from_db()
    assert action.status == "done"


def test_schedules_with_due_and_overdue_filters_and_completion(client, staff_user, project):
    today = timezone.localdate()
    overdue = ScheduleFactory(project=project, assessment_type="bias_audit", next_due=today - dt.timedelta(days=3))
    due = ScheduleFactory(project=project, assessment_type="security_review", next_due=today + dt.timedelta(days=5))
    fine = ScheduleFactory(project=project, assessment_type="ethics_review", next_due=today + dt.timedelta(days=60))
    client.force_login(staff_user)

    def listed(query):
        page = client.get(f"{ADMIN}/reassessmentschedule/?{query}").content.decode()
        return [s.public_id for s in ReassessmentSchedule.objects.order_by("pk") if f">{s.public_id}<" in page]

    assert listed("due=overdue") == [overdue.public_id]
    assert listed("due=due") == [due.public_id]
    assert listed("due=on_track") == [fine.public_id]
    r = client.post(
        f"{ADMIN}/reassessmentschedule/{overdue.pk}/do/complete/",
        {"completed_on": today.isoformat(), "evidence_url": "https://evidence.example.gov/b"},
    )
    assert r.status_code == 302
    overdue.refresh_from_db()
    assert overdue.next_due > today
    assert overdue.completions.get().evidence_url == "https://evidence.example.gov/b"


def test_create_a_schedule_in_the_admin(client, staff_user, project, use_case):
    client.force_login(staff_user)
    r = client.post(
        f"{ADMIN}/reassessmentschedule/add/",
        {"project": project.pk, "use_case": use_case.pk, "assessment_type": "bias_audit", "frequency_days": 182},
    )
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    schedule = ReassessmentSchedule.objects.get()
    assert (schedule.frequency_days, schedule.next_due) == (182, timezone.localdate() + dt.timedelta(days=182))


def test_webhooks_and_delivery_log(client, staff_user, responder_user, project, django_capture_on_commit_callbacks):
    client.force_login(staff_user)
    r = client.post(
        f"{ADMIN}/webhook/add/",
        {"project": project.pk, "name": "SOC", "url": "https://soc.example.gov/hook", "events": ["incident.logged"]},
    )
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    hook = Webhook.objects.get()
    assert hook.events == ["incident.logged"]
    page = client.get(f"{ADMIN}/webhook/{hook.pk}/change/").content.decode()
    assert hook.secret in page
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"{ADMIN}/webhook/{hook.pk}/do/ping/", {"go": "1"})  # a browser also sends its CSRF token
    delivery = WebhookDelivery.objects.get()
    assert "webhook.ping" in client.get(f"{ADMIN}/webhookdelivery/{delivery.pk}/change/").content.decode()
    # Responders do not manage webhooks.
    client.force_login(responder_user)
    assert client.get(f"{ADMIN}/webhook/").status_code == 403


def test_outsider_sees_nothing(client, outsider, project):
    incident = IncidentFactory(project=project)
    schedule = ScheduleFactory(project=project)
    hook = WebhookFactory(project=project)
    client.force_login(outsider)
    assert incident.title not in client.get(f"{ADMIN}/incident/").content.decode()
    assert client.get(f"{ADMIN}/incident/{incident.pk}/change/").status_code == 302  # "doesn't exist" redirect
    assert client.post(f"{ADMIN}/incident/{incident.pk}/do/investigate/", {"note": "x"}).status_code == 404
    assert client.post(f"{ADMIN}/reassessmentschedule/{schedule.pk}/do/complete/", {"notes": "x"}).status_code == 404
    assert client.get(f"{ADMIN}/webhook/{hook.pk}/change/").status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == "open"


@pytest.mark.parametrize("who", ["staff_user", "auditor_user", "responder_user"])
def test_every_page_renders_for_each_role(client, request, who, project, use_case):
    client.force_login(request.getfixturevalue(who))
    open_incident = IncidentFactory(
        project=project, eu_serious=True, eu_basis="general", eu_report_due_at=timezone.now()
    )
    open_incident.use_cases.add(use_case)
    closed = IncidentFactory(
        project=project,
        status="closed",
        root_cause="r",
        lessons_learned="l",
        resolved_at=timezone.now(),
        closed_at=timezone.now(),
    )
    action = CorrectiveActionFactory(incident=open_incident)
    schedule = ScheduleFactory(project=project)
    for url in [
        f"{ADMIN}/incident/",
        f"{ADMIN}/incident/{open_incident.pk}/change/",
        f"{ADMIN}/incident/{closed.pk}/change/",
        f"{ADMIN}/correctiveaction/{action.pk}/change/",
        f"{ADMIN}/reassessmentschedule/",
        f"{ADMIN}/reassessmentschedule/{schedule.pk}/change/",
    ]:
        assert client.get(url).status_code == 200, url
