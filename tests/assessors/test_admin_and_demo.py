"""Admin of audits (read-only, project-scoped, links to failing objects, run buttons calling the service)
and the demo loader's audit of the demo projects (idempotent)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessors.models import AuditRun, CheckResult
from assessors.services import audit_run
from tests.factories import UseCaseFactory

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(project, clock):
    UseCaseFactory(project=project, high_impact=True)  # no oversight plan: M2521-OVS-01 fails
    return audit_run(actor=SYSTEM, project=project, trigger="cli")


def test_staff_and_auditors_see_runs_and_results_read_only(client, run, staff_user, auditor_user):
    for user in (staff_user, auditor_user):
        client.force_login(user)
        changelist = client.get(reverse("admin:assessors_auditrun_changelist"))
        assert changelist.status_code == 200
        assert run.public_id in changelist.content.decode()
        page = client.get(reverse("admin:assessors_auditrun_change", args=[run.pk])).content.decode()
        assert "Gaps, most severe first" in page
        assert 'name="_save"' not in page
        assert client.post(reverse("admin:assessors_auditrun_delete", args=[run.pk])).status_code == 403


def test_a_failing_result_links_down_to_the_failing_objects(client, run, staff_user, project):
    result = CheckResult.objects.get(run=run, check_id="M2521-OVS-01")
    use_case = project.use_cases.get()
    client.force_login(staff_user)
    page = client.get(reverse("admin:assessors_checkresult_change", args=[result.pk])).content.decode()
    assert f'<a href="/admin/accountability/aiusecase/{use_case.pk}/change/">{use_case.public_id}</a>' in page
    assert "no active plan version with an intervention role and a fail-safe" in page


def test_outsiders_do_not_see_the_project_runs(client, run, outsider):
    client.force_login(outsider)
    assert run.public_id not in client.get(reverse("admin:assessors_auditrun_changelist")).content.decode()
    assert client.get(reverse("admin:assessors_auditrun_change", args=[run.pk])).status_code == 302


def test_the_run_button_calls_the_service(client, run, staff_user, ledger_count):
    client.force_login(staff_user)
    changelist = client.get(reverse("admin:assessors_auditrun_changelist")).content.decode()
    assert reverse("admin:assessors_auditrun_run") in changelist
    before = ledger_count()
    response = client.post(reverse("admin:assessors_auditrun_run"), {"project": run.project_id})
    new = AuditRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == reverse("admin:assessors_auditrun_change", args=[new.pk])
    assert (new.trigger, new.actor, ledger_count()) == ("admin", staff_user, before + 1)
    action = reverse("admin:assessors_auditrun_object_action", args=[run.pk, "run_again"])
    assert client.post(action).status_code == 302
    assert AuditRun.objects.count() == 3


def test_an_auditor_cannot_run_an_audit_from_the_admin(client, run, auditor_user):
    client.force_login(auditor_user)
    assert client.get(reverse("admin:assessors_auditrun_run")).status_code == 403
    response = client.post(reverse("admin:assessors_auditrun_object_action", args=[run.pk, "run_again"]))
    assert "does not allow this (audit.run)" in response.content.decode()
    assert AuditRun.objects.count() == 1


def test_load_demo_audits_the_demo_projects_once():
    out = io.StringIO()
    call_command("load_demo", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert [a["project"] for a in data["audits"]] == ["proj-101", "proj-202"]
    runs = AuditRun.objects.order_by("project__key")
    assert [(r.project.key, r.trigger, r.checks_total) for r in runs] == [
        ("proj-101", "demo", 29),
        ("proj-202", "demo", 29),
    ]
    assert all(r.ledger_entry_id for r in runs)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "already present; nothing changed" in out.getvalue()
    assert AuditRun.objects.count() == 2
