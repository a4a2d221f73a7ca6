"""ai_incident_response: log and manage AI incidents from the command line (seed 003 §9)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accountability.api import incident_serializers as s
from accountability.exceptions import ValidationFailed
from accountability.models import Incident
from accountability.selectors import incidents as sel
from accountability.selectors import registry as reg
from accountability.services import incident_lifecycle as life
from accountability.services import incidents as svc

from ._base import ServiceCommand

TRANSITIONS = ["investigate", "mitigate", "resolve", "close", "reopen", "show"]


def parse_when(value: str | None, flag: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        try:
            parsed = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
        except ValueError as exc:
            raise ValidationFailed({flag: [f"'{value}' is not a date or date-time (ISO 8601)."]}) from exc
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(ServiceCommand):
    help = (
        "Log and manage AI incidents. Examples:\n"
        "  ai_incident_response --project-id proj-101 --log --severity critical --title 'Model hallucination' --json\n"
        "  ai_incident_response --project-id proj-101 --list --json\n"
        "  ai_incident_response --incident-id INC-00001 --investigate --json\n"
        "  ai_incident_response --incident-id INC-00001 --resolve --root-cause 'Training data gap' "
        "--lessons-learned 'Add validation step' --json"
    )
    actions = ["log", "list", *TRANSITIONS]

    def add_action_arguments(self, parser):
        parser.add_argument("--project-id", help="Project key, e.g. proj-101.")
        parser.add_argument("--incident-id", help="Incident id, e.g. INC-00001 (for the transitions and --show).")
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--log", action="store_true", help="Log a new incident (needs --title).")
        actions.add_argument("--list", action="store_true", help="List the project's incidents.")
        actions.add_argument("--show", action="store_true", help="Show one incident with its timeline.")
        actions.add_argument("--investigate", action="store_true", help="open or mitigated -> investigating.")
        actions.add_argument("--mitigate", action="store_true", help="investigating -> mitigated (needs --note).")
        actions.add_argument("--resolve", action="store_true", help="-> resolved (needs --root-cause).")
        actions.add_argument("--close", action="store_true", help="resolved -> closed (needs lessons learned).")
        actions.add_argument("--reopen", action="store_true", help="resolved or closed -> investigating (--reason).")
        log = parser.add_argument_group("incident options")
        log.add_argument("--title", default="")
        log.add_argument("--severity", default="", help="critical, high, medium or low (default: from the type).")
        log.add_argument("--type", dest="incident_type", default="other", help="e.g. confabulation, bias_detected.")
        log.add_argument("--description", default="")
        log.add_argument("--use-case-id", action="append", default=[], help="Affected use case (repeatable).")
        log.add_argument("--system", action="append", default=[], help="Affected system id (repeatable).")
        log.add_argument("--detected-at", help="When it was detected (ISO 8601).")
        log.add_argument("--source", default="", help="How it came to light (GV-4.3-002 system/source).")
        log.add_argument("--assigned-to", help="Username of the responder answerable for it.")
        res = parser.add_argument_group("transition options")
        res.add_argument("--note", default="", help="Investigation or mitigation note.")
        res.add_argument("--root-cause", default="")
        res.add_argument("--root-cause-tag", action="append", default=[], help="Root-cause tag (repeatable).")
        res.add_argument("--lessons-learned", default="")
        res.add_argument("--reason", default="", help="Why the incident is reopened.")
        filters = parser.add_argument_group("list filters")
        filters.add_argument("--status", choices=Incident.Status.values)
        filters.add_argument("--due-state", choices=sel.SLA_STATES, help="SLA state.")

    # --- helpers ---------------------------------------------------------------------------------
    def project(self, actor, opts):
        if not opts.get("project_id"):
            raise CommandError("--project-id is required for this action.")
        return reg.project_get(actor, opts["project_id"])

    def incident(self, actor, opts) -> Incident:
        if not opts.get("incident_id"):
            raise CommandError("--incident-id is required for this action.")
        project = reg.project_get(actor, opts["project_id"]) if opts.get("project_id") else None
        return sel.incident_get(actor, opts["incident_id"], project)

    def detail(self, actor, incident):
        return s.IncidentDetailSerializer(sel.incident_get(actor, incident.public_id)).data

    # --- actions ---------------------------------------------------------------------------------
    def do_log(self, actor, opts):
        project = self.project(actor, opts)
        if not opts["title"].strip():
            raise ValidationFailed({"title": ["--log needs --title."]})
        incident = svc.incident_log(
            actor=actor,
            project=project,
            title=opts["title"],
            severity=opts["severity"],
            incident_type=opts["incident_type"],
            description=opts["description"],
            use_cases=[reg.use_case_get(actor, uc, project) for uc in opts["use_case_id"]],
            affected_systems=opts["system"],
            detected_at=parse_when(opts.get("detected_at"), "detected_at"),
            source=opts["source"],
            assigned_to=self.resolve_actor(opts["assigned_to"]) if opts.get("assigned_to") else None,
        )
        return self.detail(actor, incident)

    def do_list(self, actor, opts):
        qs = sel.incident_list(actor, self.project(actor, opts)).prefetch_related("use_cases").order_by("id")
        if opts.get("status"):
            qs = qs.filter(status=opts["status"])
        if opts.get("severity"):
            qs = qs.filter(severity=opts["severity"])
        if opts.get("due_state"):
            qs = qs.filter(sla_state=opts["due_state"])
        data = s.IncidentSerializer(qs, many=True).data
        rows = [
            [
                i["id"],
                i["severity"],
                i["status"],
                i["sla"]["state"] + (" !" if i["sla"]["breached"] else ""),
                i["sla"]["due_at"],
                i["title"],
            ]
            for i in data
        ]
        return data, self.table(
            f"Incidents of {opts['project_id']}", ["Incident", "Severity", "Status", "SLA", "Due", "Title"], rows
        )

    def do_show(self, actor, opts):
        return self.detail(actor, self.incident(actor, opts))

    def do_investigate(self, actor, opts):
        incident = life.incident_investigate(actor=actor, incident=self.incident(actor, opts), note=opts["note"])
        return self.detail(actor, incident)

    def do_mitigate(self, actor, opts):
        incident = life.incident_mitigate(actor=actor, incident=self.incident(actor, opts), note=opts["note"])
        return self.detail(actor, incident)

    def do_resolve(self, actor, opts):
        incident = life.incident_resolve(
            actor=actor,
            incident=self.incident(actor, opts),
            root_cause=opts["root_cause"],
            root_cause_tags=opts["root_cause_tag"],
            lessons_learned=opts["lessons_learned"],
        )
        return self.detail(actor, incident)

    def do_close(self, actor, opts):
        incident = life.incident_close(
            actor=actor, incident=self.incident(actor, opts), lessons_learned=opts["lessons_learned"]
        )
        return self.detail(actor, incident)

    def do_reopen(self, actor, opts):
        incident = life.incident_reopen(actor=actor, incident=self.incident(actor, opts), reason=opts["reason"])
        return self.detail(actor, incident)
