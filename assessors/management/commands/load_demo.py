"""load_demo: accountability's demo loader, then one stored audit of each demo project (idempotent).

It shadows ``accountability``'s command of the same name (``assessors`` is listed before it in
INSTALLED_APPS), so ``make run`` shows audit results in the admin while ``accountability`` never
imports ``assessors``.
"""

from __future__ import annotations

import io
import json

from django.core.management.base import OutputWrapper

from accountability.actors import SystemActor
from accountability.ledger.services.integration import integrate_pending
from accountability.management.commands.load_demo import Command as AccountabilityLoadDemo
from accountability.models import Project
from assessors.models import AuditRun
from assessors.services import audit_run_many

DEMO_PROJECTS = ("proj-101", "proj-202")
AUDITOR = SystemActor("cli:load_demo")


class Command(AccountabilityLoadDemo):
    help = AccountabilityLoadDemo.help + " Then audits each demo project once, so the admin shows results."

    def handle(self, *args, **opts):
        """Load the demo data, then audit the demo projects that have no stored audit yet."""
        real, buffer = self.stdout, io.StringIO()
        self.stdout = OutputWrapper(buffer)
        try:
            super().handle(*args, **opts)
        finally:
            self.stdout = real
        runs = self.audit_demo_projects()
        integrate_pending()  # the audits' ledger entries join the log under a signed checkpoint too
        audits = [
            {"project": run.project.key, "run": run.public_id, "score": str(run.score), "gate": run.gate_status}
            for run in runs
        ]
        if opts["json"]:
            data = json.loads(buffer.getvalue())
            data["created"] = data["created"] or bool(runs)
            data["audits"] = audits
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(buffer.getvalue().rstrip("\n"))
        for audit in audits:
            self.stdout.write(
                f"Audited {audit['project']}: {audit['run']}, score {audit['score']}, gate {audit['gate']}."
            )

    def audit_demo_projects(self) -> list[AuditRun]:
        """One complete, stored audit of each demo project that has none (re-runs add nothing)."""
        audited = set(AuditRun.objects.values_list("project__key", flat=True).distinct())
        todo = list(Project.objects.filter(key__in=DEMO_PROJECTS).exclude(key__in=audited).order_by("key"))
        return audit_run_many(actor=AUDITOR, trigger=AuditRun.Trigger.DEMO, projects=todo) if todo else []
