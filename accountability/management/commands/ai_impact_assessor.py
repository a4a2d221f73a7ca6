"""ai_impact_assessor: the impact classification of one use case or of every use case of a project (seed 003 §9)."""

from __future__ import annotations

from django.core.management.base import CommandError

from accountability.selectors import evidence as ev
from accountability.selectors import registry as sel

from ._base import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Report the weighted risk score and class of the latest impact assessment, the sections A–G still "
        "missing, the independent review and risk acceptance, and whether the use case's high-impact "
        "determination agrees. Examples:\n"
        "  ai_impact_assessor --project-id proj-101 --use-case-id UC-00001 --json\n"
        "  ai_impact_assessor --project-id proj-101 --all"
    )
    actions = ["use_case_id", "all"]

    def add_action_arguments(self, parser):
        """--project-id with --use-case-id or --all."""
        parser.add_argument("--project-id", help="Project key, e.g. proj-101 (required).")
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--use-case-id", help="One use case (UC-00001).")
        actions.add_argument("--all", action="store_true", help="Every use case of the project that is not retired.")

    def project(self, actor, opts):
        """The --project-id project, visible to the actor."""
        if not opts.get("project_id"):
            raise CommandError("--project-id is required.")
        return sel.project_get(actor, opts["project_id"])

    def do_use_case_id(self, actor, opts):
        """Report one use case."""
        project = self.project(actor, opts)
        report = ev.impact_report(actor, sel.use_case_get(actor, opts["use_case_id"], project))
        return report, self._table(f"Impact assessment of {report['use_case_id']}", [report])

    def do_all(self, actor, opts):
        """Report every use case of the project that is not retired, with a summary."""
        project = self.project(actor, opts)
        reports = ev.impact_reports(actor, project)
        classes = [r["risk_class"] or "unscored" for r in reports]
        data = {
            "project": project.key,
            "summary": {
                "use_cases": len(reports),
                **{name: classes.count(name) for name in ("high", "medium", "low", "unscored")},
                "determination_disagreements": sum(1 for r in reports if r["determination_agrees"] is False),
                "without_accepted_assessment": sum(1 for r in reports if r["accepted_version"] is None),
            },
            "use_cases": reports,
        }
        return data, self._table(f"Impact assessments of {project.key}", reports)

    def _table(self, title, reports):
        rows = [
            [
                r["use_case_id"],
                f"{r['assessment']['id']} v{r['assessment']['version']} {r['assessment']['status']}"
                if r["assessment"]
                else "none",
                r["score"]["risk_score"] if r["score"] else "-",
                r["risk_class"] or "-",
                "".join(s["section"] for s in r["missing_sections"]) or "-",
                r["independent_review"]["status"],
                r["risk_acceptance"]["status"],
                {True: "yes", False: "NO", None: "-"}[r["determination_agrees"]],
            ]
            for r in reports
        ]
        columns = ["Use case", "Assessment", "Score", "Class", "Missing", "Review (F)", "Acceptance (G)", "Agrees"]
        return self.table(title, columns, rows)
