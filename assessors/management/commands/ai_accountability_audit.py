"""ai_accountability_audit: the cross-framework audit and security gate of one project or of all (seed 003 §9)."""

from __future__ import annotations

from django.core.management.base import CommandError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from accountability.management.commands._base import ServiceCommand
from accountability.selectors import registry as sel
from assessors import services as svc
from assessors.audit import AuditReport
from assessors.selectors import check_result_list

ICON = {"pass": "✔", "partial": "◐", "fail": "✘", "not_applicable": "–"}


class Command(ServiceCommand):
    help = (
        "Run the cross-framework accountability audit: every check once, coverage per framework, a unified "
        "score, gaps ranked by severity, and the security gate. Stores the run (and a ledger entry) unless "
        "--no-store. Examples:\n"
        "  ai_accountability_audit --project-id proj-101 --json\n"
        "  ai_accountability_audit --project-id proj-101 --human --stream\n"
        "  ai_accountability_audit --project-id proj-101 --gate     # exit 0 passes, 1 blocked\n"
        "  ai_accountability_audit --all --gate"
    )
    actions = ["project_id", "all"]

    def add_action_arguments(self, parser):
        """--project-id or --all, output and gate flags, optional framework/check selection."""
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--project-id", help="Audit one project (its key, e.g. proj-101).")
        actions.add_argument("--all", action="store_true", help="Audit every project you may audit.")
        parser.add_argument("--human", action="store_true", help="Human-readable output (the default).")
        parser.add_argument("--stream", action="store_true", help="Print each check as it completes (human).")
        parser.add_argument("--gate", action="store_true", help="Exit 1 when the security gate blocks.")
        parser.add_argument("--framework", action="append", help="Only checks crediting this framework (repeat).")
        parser.add_argument("--check", action="append", help="Only this check id or alias (repeat).")
        parser.add_argument("--no-store", action="store_true", help="Evaluate without storing (needs audit.view).")

    def handle(self, *args, **opts):
        if opts["json"] and (opts["human"] or opts["stream"]):
            raise CommandError("--json prints JSON only: drop --human and --stream.")
        if opts["gate"] and (opts["framework"] or opts["check"]):
            raise CommandError("--gate needs the complete audit: drop --framework and --check.")
        if opts["all"] and (opts["framework"] or opts["check"] or opts["stream"]):
            raise CommandError("--all runs the complete audit without streaming: drop --framework, --check, --stream.")
        self.blocked: list[str] = []
        super().handle(*args, **opts)
        if opts["gate"] and self.blocked:
            raise CommandError(f"security gate blocked: {', '.join(self.blocked)}", returncode=1)

    def emit(self, result):
        if result is not None:  # human output of one project is printed as it is built
            super().emit(result)

    # --- one project ----------------------------------------------------------------------------------
    def do_project_id(self, actor, opts):
        """Audit one project (stored unless --no-store)."""
        project = sel.project_get(actor, opts["project_id"])
        selection = {"frameworks": opts["framework"], "check_ids": opts["check"]}
        on_result = self._streamer(project, selection) if opts["stream"] else None
        try:
            if opts["no_store"]:
                report, run = svc.audit_evaluate(actor=actor, project=project, on_result=on_result, **selection), None
            else:
                run = svc.audit_run(actor=actor, project=project, trigger="cli", on_result=on_result, **selection)
                report = None
        finally:
            if on_result:
                on_result.progress.stop()
        data = self._report_data(actor, report, run)
        if data["gate"] and data["gate"]["status"] == "blocked":
            self.blocked = [f"{project.key}: {c['id']}" for c in data["gate"]["blocking"]]
        if self.as_json:
            return data
        self._print_report(data, with_checks=not opts["stream"])
        return None

    def _report_data(self, actor, report: AuditReport | None, run) -> dict:
        if report is not None:
            return {"run": None, **report.as_dict()}
        checks = [
            {
                "check": r.check_id,
                "aliases": r.aliases,
                "title": r.title,
                "framework": r.framework,
                "check_version": r.check_version,
                "framework_version": r.framework_version,
                "credits": r.credits,
                "severity": r.severity,
                "status": r.status,
                "summary": r.summary,
                "evidence": r.evidence,
                "remediation": r.remediation,
            }
            for r in check_result_list(actor, run=run)
        ]
        return {
            "run": run.public_id,
            "ledger_entry": run.ledger_entry_id,
            "project": run.project.key,
            "evaluated_at": run.evaluated_at.isoformat(),
            "complete": not run.requested_frameworks and not run.requested_checks,
            "catalogue": {"digest": run.catalogue_digest, "frameworks": run.framework_versions},
            "score": None if run.score is None else float(run.score),
            "summary": {
                "total": run.checks_total,
                "pass": run.checks_passed,
                "partial": run.checks_partial,
                "fail": run.checks_failed,
                "not_applicable": run.checks_not_applicable,
            },
            "frameworks": run.coverage,
            "gaps": run.gaps,
            "gate": run.gate or None,
            "checks": checks,
        }

    def _streamer(self, project, selection):
        total = len(svc.select_checks(selection["frameworks"], selection["check_ids"]))
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=self.console, transient=True
        )
        task = progress.add_task(f"Auditing {project.key}", total=total)
        progress.start()

        def on_result(result):
            alias = f" ({', '.join(result.check.aliases)})" if result.check.aliases else ""
            progress.console.print(
                escape(
                    f"{ICON[result.status]} {result.check.id}{alias} [{result.check.severity}] "
                    f"{result.status.upper()}: {result.summary}"
                )
            )
            progress.advance(task)

        on_result.progress = progress
        return on_result

    # --- every project --------------------------------------------------------------------------------
    def do_all(self, actor, opts):
        """Audit every project the actor may audit, each check evaluated once for all of them."""
        if opts["no_store"]:
            reports = svc.audit_evaluate_many(actor=actor)
            rows = [self._summary_row(r.as_dict(include_evidence=False), None) for r in reports]
        else:
            runs = svc.audit_run_many(actor=actor, trigger="cli")
            rows = [
                self._summary_row(
                    {
                        "project": run.project.key,
                        "score": None if run.score is None else float(run.score),
                        "summary": {
                            "pass": run.checks_passed,
                            "partial": run.checks_partial,
                            "fail": run.checks_failed,
                            "not_applicable": run.checks_not_applicable,
                        },
                        "gate": run.gate,
                    },
                    run.public_id,
                )
                for run in runs
            ]
        self.blocked = [f"{r['project']}: {', '.join(r['blocking'])}" for r in rows if r["gate"] == "blocked"]
        data = {"projects": rows}
        table = self.table(
            "Accountability audit of every project",
            ["Project", "Run", "Score", "Pass", "Partial", "Fail", "N/A", "Gate", "Blocking"],
            [
                [r["project"], r["run"] or "-", r["score"], *r["counts"], r["gate"], ", ".join(r["blocking"]) or "-"]
                for r in rows
            ],
        )
        return data, table

    @staticmethod
    def _summary_row(d: dict, run_id) -> dict:
        s, gate = d["summary"], d["gate"] or {}
        return {
            "project": d["project"],
            "run": run_id,
            "score": d["score"],
            "counts": [s["pass"], s["partial"], s["fail"], s["not_applicable"]],
            "gate": gate.get("status", "not_evaluated"),
            "blocking": [c["id"] for c in gate.get("blocking", [])],
        }

    # --- human output ---------------------------------------------------------------------------------
    def _print_report(self, d: dict, *, with_checks: bool) -> None:
        c = self.console
        run = f" · run {d['run']}" if d["run"] else " · not stored"
        c.print(f"[bold]Accountability audit of {d['project']}[/bold]{escape(run)} · {d['evaluated_at']}")
        if with_checks:
            c.print(
                self.table(
                    "Checks",
                    ["", "Check", "Alias", "Severity", "Status", "Summary"],
                    [
                        [
                            ICON[x["status"]],
                            x["check"],
                            ", ".join(x["aliases"]),
                            x["severity"],
                            x["status"],
                            x["summary"],
                        ]
                        for x in d["checks"]
                    ],
                )
            )
        s = d["summary"]
        c.print(
            f"Unified score: [bold]{d['score']}[/bold] · {s['pass']} pass, {s['partial']} partial, "
            f"{s['fail']} fail, {s['not_applicable']} not applicable"
        )
        rows = []
        for fw in d["frameworks"]:
            if fw["status"] != "assessed":
                rows.append([fw["framework"], fw["title"], "not applicable", "-", "-", fw.get("reason", "")])
                continue
            req = fw["requirements"]
            rows.append(
                [
                    fw["framework"],
                    fw["title"],
                    f"{req['satisfied']}/{req['assessed']} requirements",
                    f"{fw['coverage_pct']} %" if fw["coverage_pct"] is not None else "-",
                    fw["score"],
                    f"{req['not_assessed']} not assessed by the portal",
                ]
            )
        c.print(self.table("Coverage per framework", ["Code", "Framework", "Met", "Coverage", "Score", "Note"], rows))
        if d["gaps"]:
            c.print("[bold]Gaps, most severe first[/bold]")
            for i, gap in enumerate(d["gaps"], start=1):
                c.print(escape(f"{i:2}. [{gap['severity']}] {gap['check']} {gap['status'].upper()}: {gap['summary']}"))
                c.print(escape(f"      → {gap['remediation']}"))
        if d["gate"]:
            self._print_gate(d["gate"])

    def _print_gate(self, gate: dict) -> None:
        c = self.console
        c.print(f"[bold]Security gate: {gate['status'].upper()}[/bold] (thresholds: {gate['thresholds_source']})")
        for kind, items in (("BLOCKING", gate["blocking"]), ("WARNING", gate["warnings"])):
            for cond in items:
                c.print(escape(f"  {kind} {cond['id']}: {cond['title']} — {cond['detail']} [{cond['citation']}]"))
                for obj in cond["objects"]:
                    extra = obj.get("reason") or ", ".join(
                        f"{k}={v}" for k, v in obj.items() if k not in ("id", "model", "pk", "admin_url", "status")
                    )
                    link = f" {obj['admin_url']}" if obj.get("admin_url") else ""
                    c.print(escape(f"      {obj['id']}: {extra}{link}"))
