"""ai_reassessment_scheduler: schedule, check and complete reassessments from the command line (seed 003 §9)."""

from __future__ import annotations

from django.core.management.base import CommandError

from accountability.api.reassessment_api import ReassessmentScheduleDetailSerializer, ReassessmentScheduleSerializer
from accountability.selectors import reassessments as sel
from accountability.selectors import registry as reg
from accountability.services import reassessments as svc

from ._base import ServiceCommand, parse_date


class Command(ServiceCommand):
    help = (
        "Schedule and track reassessments. Examples:\n"
        "  ai_reassessment_scheduler --project-id proj-101 --create --assessment-type transparency_audit "
        "--frequency-days 90 --json\n"
        "  ai_reassessment_scheduler --project-id proj-101 --check-due --json\n"
        "  ai_reassessment_scheduler --project-id proj-101 --mark-complete --schedule-id RAS-00001 --json\n"
        "  ai_reassessment_scheduler --project-id proj-101 --overdue --json"
    )
    actions = ["create", "check_due", "mark_complete", "overdue", "list", "significant_modification"]

    def add_action_arguments(self, parser):
        parser.add_argument("--project-id", help="Project key, e.g. proj-101.")
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--create", action="store_true", help="Create a schedule.")
        actions.add_argument("--check-due", action="store_true", help="Schedules due or overdue today.")
        actions.add_argument("--overdue", action="store_true", help="Schedules overdue today.")
        actions.add_argument("--list", action="store_true", help="Every schedule of the project.")
        actions.add_argument("--mark-complete", action="store_true", help="Record a completion (--schedule-id).")
        actions.add_argument(
            "--significant-modification",
            action="store_true",
            help="A use case changed significantly: its reassessments are due now (--use-case-id, --description).",
        )
        opts = parser.add_argument_group("options")
        opts.add_argument("--assessment-type", default="", help="e.g. transparency_audit, bias_audit.")
        opts.add_argument("--frequency-days", type=int, help="Any positive number of days.")
        opts.add_argument("--preset", default="", help="quarterly, semi_annual, annual or biennial.")
        opts.add_argument("--use-case-id", help="The use case (UC-00001); project-wide when omitted.")
        opts.add_argument("--assigned-to", help="Username answerable for the reassessment.")
        opts.add_argument("--first-due", help="First due date (YYYY-MM-DD; default one cadence from today).")
        opts.add_argument("--schedule-id", help="RAS-00001.")
        opts.add_argument("--evidence-url", default="", help="Link to the reassessment's evidence.")
        opts.add_argument("--notes", default="")
        opts.add_argument("--completed-on", help="YYYY-MM-DD (default today).")
        opts.add_argument("--description", default="", help="What changed (significant modification).")

    def project(self, actor, opts):
        if not opts.get("project_id"):
            raise CommandError("--project-id is required for this action.")
        return reg.project_get(actor, opts["project_id"])

    def listing(self, actor, opts, statuses: list[str], title: str):
        qs = sel.reassessment_list(actor, self.project(actor, opts), include_inactive=False)
        if statuses:
            qs = qs.filter(live_status__in=statuses)
        data = ReassessmentScheduleSerializer(qs.order_by("next_due", "id"), many=True).data
        rows = [
            [r["id"], r["assessment_type"], r["use_case"] or "project-wide", r["frequency"], r["next_due"], r["status"]]
            for r in data
        ]
        return data, self.table(title, ["Schedule", "Type", "Use case", "Cadence", "Next due", "Status"], rows)

    def do_create(self, actor, opts):
        project = self.project(actor, opts)
        if not opts["assessment_type"]:
            raise CommandError("--create needs --assessment-type.")
        schedule = svc.reassessment_create(
            actor=actor,
            project=project,
            assessment_type=opts["assessment_type"],
            frequency_days=opts.get("frequency_days"),
            preset=opts["preset"],
            use_case=reg.use_case_get(actor, opts["use_case_id"], project) if opts.get("use_case_id") else None,
            assigned_to=self.resolve_actor(opts["assigned_to"]) if opts.get("assigned_to") else None,
            first_due=parse_date(opts.get("first_due"), "first_due"),
        )
        return ReassessmentScheduleDetailSerializer(sel.reassessment_get(actor, schedule.public_id)).data

    def do_check_due(self, actor, opts):
        return self.listing(actor, opts, ["due", "overdue"], f"Reassessments due in {opts['project_id']}")

    def do_overdue(self, actor, opts):
        return self.listing(actor, opts, ["overdue"], f"Overdue reassessments in {opts['project_id']}")

    def do_list(self, actor, opts):
        return self.listing(actor, opts, [], f"Reassessments of {opts['project_id']}")

    def do_mark_complete(self, actor, opts):
        if not opts.get("schedule_id"):
            raise CommandError("--mark-complete needs --schedule-id.")
        project = reg.project_get(actor, opts["project_id"]) if opts.get("project_id") else None
        schedule = sel.reassessment_get(actor, opts["schedule_id"], project)
        svc.reassessment_complete(
            actor=actor,
            schedule=schedule,
            evidence_url=opts["evidence_url"],
            notes=opts["notes"],
            completed_on=parse_date(opts.get("completed_on"), "completed_on"),
        )
        return ReassessmentScheduleDetailSerializer(sel.reassessment_get(actor, schedule.public_id)).data

    def do_significant_modification(self, actor, opts):
        project = self.project(actor, opts)
        if not opts.get("use_case_id"):
            raise CommandError("--significant-modification needs --use-case-id.")
        use_case = reg.use_case_get(actor, opts["use_case_id"], project)
        changed = svc.reassessment_significant_modification(
            actor=actor, use_case=use_case, description=opts["description"]
        )
        return ReassessmentScheduleSerializer(
            sel.reassessment_list(actor, project).filter(pk__in=[c.pk for c in changed]), many=True
        ).data
