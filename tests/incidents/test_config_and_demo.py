"""The policy file's incident, reassessment, escalation and webhook sections are validated at load, and the
demo data of issue 4 loads through the services, once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accountability.config import load_policy
from accountability.models import Incident, IncidentEvent, ReassessmentSchedule


def _policy_with(tmp_path, change) -> str:
    data = yaml.safe_load(Path(settings.ICDEV_ACCOUNTABILITY_CONFIG).read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_the_shipped_policy_is_valid():
    policy = load_policy(settings.ICDEV_ACCOUNTABILITY_CONFIG)
    assert policy["incidents"]["sla_hours"]["critical"] == 72
    assert policy["incidents"]["eu_serious_incident_days"] == {
        "general": 15,
        "death": 10,
        "widespread_infringement": 2,
        "critical_infrastructure": 2,
    }
    assert policy["reassessments"]["frequency_presets"] == {
        "quarterly": 90,
        "semi_annual": 182,
        "annual": 365,
        "biennial": 730,
    }


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["incidents"]["sla_hours"].pop("critical"), "incidents/sla_hours"),
        (lambda d: d["incidents"]["sla_hours"].update(low=0), "incidents/sla_hours/low"),
        (lambda d: d["incidents"]["severity_by_type"].update(other="urgent"), "incidents/severity_by_type/other"),
        (lambda d: d["incidents"]["extra_types"].append({"key": "Bad Key", "label": "x"}), "incidents/extra_types"),
        (lambda d: d["reassessments"]["frequency_presets"].update(monthly=-30), "reassessments/frequency_presets"),
        (lambda d: d["escalation"].pop("caio_delay_hours"), "escalation"),
        (lambda d: d.pop("webhooks"), "(top level)"),
    ],
)
def test_invalid_sections_are_refused_at_load(tmp_path, change, where):
    with pytest.raises(ImproperlyConfigured, match=where.replace("(", r"\(").replace(")", r"\)")):
        load_policy(_policy_with(tmp_path, change))


@pytest.mark.django_db
def test_demo_data_loads_once_through_the_services():
    call_command("load_demo", stdout=io.StringIO())
    incidents = Incident.objects.filter(project__key="proj-101")
    assert sorted(incidents.values_list("status", flat=True)) == ["closed", "investigating", "mitigated", "open"]
    assert incidents.filter(sla_breached_at__isnull=False).count() == 1
    assert incidents.filter(eu_serious=True).count() == 1
    statuses = sorted(ReassessmentSchedule.objects.values_list("status", flat=True))
    assert statuses == ["due", "on_track", "on_track", "overdue"]
    assert IncidentEvent.objects.filter(ledger_entry_id="").exclude(actor_label="cli:load_demo").count() == 0
    counts = (Incident.objects.count(), ReassessmentSchedule.objects.count(), IncidentEvent.objects.count())
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert (Incident.objects.count(), ReassessmentSchedule.objects.count(), IncidentEvent.objects.count()) == counts
