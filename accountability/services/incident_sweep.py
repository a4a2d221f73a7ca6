"""The incident SLA sweep (run by beat): resolution SLAs breached, breaches escalated to the CAIO after the
configured delay, EU Art. 73 reports not made in time, and corrective actions past their due date."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.utils import timezone

from accountability.actors import actor_label
from accountability.config import policy
from accountability.models import CorrectiveAction, Incident, IncidentEvent, Membership
from accountability.models.incidents import OPEN_STATUSES

from ._incident_common import incident_url, when
from ._recipients import caio_user_ids, role_user_ids
from ._sweep import BATCH_SIZE, FlagPass, require_sweeper, run_pass

Kind = IncidentEvent.Kind
INC = Incident.PUBLIC_ID_PREFIX


def _inc_id(pk: int) -> str:
    return f"{INC}-{pk:05d}"


def _owners(rows: list[dict], owner_field: str = "assigned_to_id") -> dict[int, list[int]]:
    """The assignee of each row, else the incident responders of its project."""
    unassigned = {r["project_id"] for r in rows if not r.get(owner_field)}
    responders = role_user_ids(unassigned, [Membership.Role.INCIDENT_RESPONDER]) if unassigned else {}
    return {r["pk"]: [r[owner_field]] if r.get(owner_field) else responders.get(r["project_id"], []) for r in rows}


def _caio(rows: list[dict]) -> dict[int, list[int]]:
    caios = caio_user_ids({r["project_id"] for r in rows})
    return {r["pk"]: caios.get(r["project_id"], []) for r in rows}


def _owners_and_caio(rows: list[dict]) -> dict[int, list[int]]:
    owners, caios = _owners(rows), _caio(rows)
    return {pk: list(dict.fromkeys(owners[pk] + caios[pk])) for pk in owners}


def _timeline(kind: str, text):
    def build(rows, ledger_ids, now, actor):
        label = actor_label(actor)
        return [
            {
                "incident_id": r.get("incident_id", r["pk"]),
                "kind": kind,
                "at": now,
                "actor_label": label,
                "message": text(r),
                "ledger_entry_id": ledger_ids[r["project_id"]],
            }
            for r in rows
        ]

    return build


def _stamp(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


def _open(**filters):
    return Incident.objects.filter(status__in=OPEN_STATUSES, **filters)


SLA_BREACH = FlagPass(
    name="incident.sla_breach",
    model=Incident,
    candidates=lambda now: _open(sla_breached_at__isnull=True, sla_due_at__lte=now),
    deadline="sla_due_at",
    fields=("assigned_to_id", "title", "severity", "sla_due_at"),
    set_values=lambda now: {"sla_breached_at": now, "updated_at": now},
    history_reason="SLA breached",
    describe=lambda n: f"{n} incident(s) passed their resolution SLA unresolved",
    public_id=lambda r: _inc_id(r["pk"]),
    recipients=_owners,
    message=lambda r: (
        f"SLA breached: {_inc_id(r['pk'])} {r['title']}",
        f"The {r['severity']} incident was due to be resolved by {when(r['sla_due_at'])}.",
        incident_url(r["pk"]),
    ),
    dedupe_key=lambda r: f"incident.sla_breached:{r['pk']}:{_stamp(r['sla_due_at'])}",
    webhook_kind="incident.sla_breached",
    payload=lambda r: {"title": r["title"], "severity": r["severity"], "sla_due_at": r["sla_due_at"]},
    event_model=IncidentEvent,
    events=_timeline(Kind.SLA_BREACHED, lambda r: f"Resolution SLA passed ({when(r['sla_due_at'])})."),
)


def _escalation_pass() -> FlagPass:
    delay = dt.timedelta(hours=policy()["escalation"]["caio_delay_hours"])
    return FlagPass(
        name="incident.escalate",
        model=Incident,
        candidates=lambda now: _open(sla_escalated_at__isnull=True, sla_breached_at__lte=now - delay),
        deadline="sla_breached_at",
        fields=("title", "severity", "sla_due_at", "sla_breached_at"),
        set_values=lambda now: {"sla_escalated_at": now, "updated_at": now},
        history_reason="escalated to the CAIO",
        describe=lambda n: f"{n} breached incident(s) escalated to the CAIO",
        public_id=lambda r: _inc_id(r["pk"]),
        recipients=_caio,
        message=lambda r: (
            f"Escalation: {_inc_id(r['pk'])} {r['title']} is past its SLA",
            f"The {r['severity']} incident breached its resolution SLA at {when(r['sla_breached_at'])} "
            "and is still unresolved.",
            incident_url(r["pk"]),
        ),
        dedupe_key=lambda r: f"incident.escalated:{r['pk']}:{_stamp(r['sla_due_at'])}",
        webhook_kind="incident.escalated",
        payload=lambda r: {"title": r["title"], "severity": r["severity"], "sla_breached_at": r["sla_breached_at"]},
        event_model=IncidentEvent,
        events=_timeline(Kind.ESCALATED, lambda r: "Still unresolved after the escalation delay: the CAIO was told."),
    )


EU_OVERDUE = FlagPass(
    name="incident.eu_report_overdue",
    model=Incident,
    candidates=lambda now: Incident.objects.filter(
        eu_serious=True, eu_authority_notified_at__isnull=True, eu_overdue_at__isnull=True, eu_report_due_at__lte=now
    ),
    deadline="eu_report_due_at",
    fields=("assigned_to_id", "title", "eu_basis", "eu_report_due_at"),
    set_values=lambda now: {"eu_overdue_at": now, "updated_at": now},
    history_reason="EU report overdue",
    describe=lambda n: f"{n} EU AI Act serious incident report(s) past the Art. 73 deadline",
    public_id=lambda r: _inc_id(r["pk"]),
    recipients=_owners_and_caio,
    message=lambda r: (
        f"EU AI Act report overdue: {_inc_id(r['pk'])} {r['title']}",
        f"The Art. 73 report ({r['eu_basis']}) was due by {when(r['eu_report_due_at'])}.",
        incident_url(r["pk"]),
    ),
    dedupe_key=lambda r: f"incident.eu_overdue:{r['pk']}:{_stamp(r['eu_report_due_at'])}",
    webhook_kind="incident.eu_report_overdue",
    payload=lambda r: {"title": r["title"], "eu_basis": r["eu_basis"], "eu_report_due_at": r["eu_report_due_at"]},
    event_model=IncidentEvent,
    events=_timeline(Kind.EU_OVERDUE, lambda r: f"Art. 73 report not made by {when(r['eu_report_due_at'])}."),
)


def _action_recipients(rows: list[dict]) -> dict[int, list[int]]:
    with_owner = {r["pk"]: [r["owner_id"]] for r in rows if r["owner_id"]}
    fallback = _owners([{**r, "assigned_to_id": r["incident__assigned_to_id"]} for r in rows if not r["owner_id"]])
    return {**fallback, **with_owner}


ACTION_OVERDUE = FlagPass(
    name="incident.corrective_action_overdue",
    model=CorrectiveAction,
    candidates=lambda now: CorrectiveAction.objects.filter(
        status__in=[CorrectiveAction.Status.OPEN, CorrectiveAction.Status.IN_PROGRESS],
        overdue_notified_at__isnull=True,
        due_date__lt=timezone.localdate(now),
    ),
    deadline="due_date",
    fields=("incident_id", "owner_id", "incident__assigned_to_id", "description", "due_date"),
    set_values=lambda now: {"overdue_notified_at": now, "updated_at": now},
    history_reason="overdue",
    describe=lambda n: f"{n} corrective action(s) past their due date",
    public_id=lambda r: f"{CorrectiveAction.PUBLIC_ID_PREFIX}-{r['pk']:05d}",
    recipients=_action_recipients,
    message=lambda r: (
        f"Corrective action CA-{r['pk']:05d} of {_inc_id(r['incident_id'])} is overdue",
        f"{r['description'][:500]}\nIt was due on {r['due_date']}.",
        incident_url(r["incident_id"]),
    ),
    dedupe_key=lambda r: f"corrective_action.overdue:{r['pk']}:{r['due_date']}",
    webhook_kind="corrective_action.overdue",
    payload=lambda r: {"incident": _inc_id(r["incident_id"]), "due_date": r["due_date"]},
    event_model=IncidentEvent,
    events=_timeline(Kind.ACTION_OVERDUE, lambda r: f"CA-{r['pk']:05d} passed its due date ({r['due_date']})."),
)


@dataclass
class IncidentSweepResult:
    sla_breached: int = 0
    escalated: int = 0
    eu_reports_overdue: int = 0
    corrective_actions_overdue: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def incident_sla_sweep(*, actor, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> IncidentSweepResult:
    """Flag and notify, once each: SLA breaches, CAIO escalations, late EU reports, overdue corrective actions."""
    require_sweeper(actor)
    now = now or timezone.now()
    kw = {"actor": actor, "now": now, "batch_size": batch_size}
    result = IncidentSweepResult(
        sla_breached=run_pass(SLA_BREACH, **kw),
        escalated=run_pass(_escalation_pass(), **kw),
        eu_reports_overdue=run_pass(EU_OVERDUE, **kw),
        corrective_actions_overdue=run_pass(ACTION_OVERDUE, **kw),
    )
    return result
