"""Pure incident rules: the remediation state machine, types and severities from configuration, SLA and
EU AI Act Art. 73 deadline arithmetic, and the NIST AI 600-1 GV-4.3-002 completeness indicator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from accountability.config import policy
from accountability.models import Incident

Status = Incident.Status

# Guarded remediation lifecycle. Reopening (resolved/closed -> investigating) is its own transition
# with a reason; nothing else leaves "closed".
TRANSITIONS: dict[str, dict[str, str]] = {
    # transition name: {from status: to status}
    "investigate": {Status.OPEN: Status.INVESTIGATING, Status.MITIGATED: Status.INVESTIGATING},
    "mitigate": {Status.INVESTIGATING: Status.MITIGATED},
    "resolve": {Status.INVESTIGATING: Status.RESOLVED, Status.MITIGATED: Status.RESOLVED},
    "close": {Status.RESOLVED: Status.CLOSED},
    "reopen": {Status.RESOLVED: Status.INVESTIGATING, Status.CLOSED: Status.INVESTIGATING},
}


def transition_target(name: str, current: str) -> str | None:
    """The status ``name`` leads to from ``current``, or None when the move is not allowed."""
    return TRANSITIONS[name].get(current)


def allowed_transitions(current: str) -> list[str]:
    """Transition names available from ``current`` (for buttons and error messages)."""
    return [name for name, moves in TRANSITIONS.items() if current in moves]


def incident_types() -> dict[str, str]:
    """Every valid incident type key with its label: the built-in ones plus configured extras."""
    types = dict(Incident.Type.choices)
    for extra in policy()["incidents"]["extra_types"]:
        types.setdefault(extra["key"], extra["label"])
    return types


def default_severity(incident_type: str) -> str:
    """The configured severity of a type (portal default), ``low`` when the type has none."""
    cfg = policy()["incidents"]
    for extra in cfg["extra_types"]:
        if extra["key"] == incident_type and extra.get("default_severity"):
            return extra["default_severity"]
    return cfg["severity_by_type"].get(incident_type, Incident.Severity.LOW)


def sla_hours(severity: str) -> int:
    """Configured resolution SLA of a severity, in hours (portal default)."""
    return policy()["incidents"]["sla_hours"][severity]


def sla_due_at(reported_at: dt.datetime, severity: str) -> dt.datetime:
    """When an incident of ``severity`` logged at ``reported_at`` must be resolved."""
    return reported_at + dt.timedelta(hours=sla_hours(severity))


def eu_report_days(basis: str) -> int:
    """EU AI Act Art. 73 reporting period of a basis, in days (framework text, kept in configuration)."""
    return policy()["incidents"]["eu_serious_incident_days"][basis]


def eu_report_due_at(aware_at: dt.datetime, basis: str) -> dt.datetime:
    """The authority report deadline: ``aware_at`` plus the basis's days (Art. 73(2)-(4))."""
    return aware_at + dt.timedelta(days=eu_report_days(basis))


def root_cause_tag_errors(tags) -> list[str]:
    """Messages for invalid root-cause tags (empty when valid)."""
    valid = set(Incident.RootCause.values)
    if not isinstance(tags, list | tuple) or any(t not in valid for t in tags):
        return [f"Each tag must be one of: {', '.join(Incident.RootCause.values)}."]
    if len(set(tags)) != len(tags):
        return ["A tag is listed twice."]
    return []


# --- NIST AI 600-1 GV-4.3-002 -----------------------------------------------------------------------

GV_4_3_002_FIELDS: list[tuple[str, str]] = [
    ("system_id", "System ID (an affected use case or system)"),
    ("title", "Title"),
    ("reporter", "Reporter"),
    ("source", "System / source"),
    ("data_reported", "Data reported"),
    ("date_of_incident", "Date of incident"),
    ("description", "Description"),
    ("impacts", "Impact(s)"),
    ("stakeholders_impacted", "Stakeholder(s) impacted"),
]


@dataclass
class IncidentCompleteness:
    present: list[str] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)

    @property
    def percent(self) -> int:
        total = len(self.present) + len(self.missing)
        return round(100 * len(self.present) / total) if total else 100

    @property
    def complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict:
        return {
            "framework": "NIST AI 600-1 GV-4.3-002",
            "complete": self.complete,
            "percent": self.percent,
            "missing": self.missing,
        }


def gv_4_3_002_completeness(incident: Incident, *, has_use_cases: bool | None = None) -> IncidentCompleteness:
    """Which of the nine GV-4.3-002 minimum fields the incident record carries."""
    if has_use_cases is None:
        has_use_cases = bool(incident.pk) and incident.use_cases.exists()
    values = {
        "system_id": has_use_cases or bool(incident.affected_systems),
        "title": bool(incident.title.strip()),
        "reporter": bool(incident.reported_by_id or incident.reporter_name.strip()),
        "source": bool(incident.source.strip()),
        "data_reported": bool(incident.data_reported.strip()),
        "date_of_incident": bool(incident.occurred_at or incident.detected_at),
        "description": bool(incident.description.strip()),
        "impacts": bool(incident.impacts.strip()),
        "stakeholders_impacted": bool(incident.stakeholders_impacted.strip()),
    }
    report = IncidentCompleteness()
    for key, label in GV_4_3_002_FIELDS:
        if values[key]:
            report.present.append(key)
        else:
            report.missing.append({"field": key, "label": label})
    return report
