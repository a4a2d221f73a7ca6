"""check_frameworks: validate the framework catalogues and the gate's check references (CI runs it)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessors.catalogue import CatalogueInvalid, build, catalogue_dirs
from assessors.gate import CAIO_CHECK, IR_PLAN_CHECK, OVERSIGHT_CHECK, gate_policy


class Command(BaseCommand):
    help = (
        "Validate every framework catalogue (JSON Schema, unique ids and aliases, known models, fields, "
        "rule types and evaluators, provenance on every threshold) and the checks the gate names. "
        "Exits 1 with every problem listed when something is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", action="append", help="Catalogue directory (repeat; default: the configured).")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary only.")

    def handle(self, *args, **opts):
        """Build the catalogue from the files, then resolve the gate's check ids against it."""
        dirs = [Path(d) for d in opts["dir"]] if opts["dir"] else catalogue_dirs()
        paths = [p for d in dirs for p in sorted(d.glob("*.yaml"))]
        if not paths:
            raise CommandError(f"no *.yaml catalogue in {', '.join(str(d) for d in dirs)}", returncode=1)
        try:
            catalogue = build(paths)
        except CatalogueInvalid as exc:
            raise CommandError(str(exc), returncode=1) from exc
        problems = []
        for check_id in [CAIO_CHECK, OVERSIGHT_CHECK, IR_PLAN_CHECK, *gate_policy()["blocking_checks"]]:
            try:
                catalogue.resolve(check_id)
            except KeyError:
                problems.append(f"the gate names check {check_id}, which no catalogue defines")
        if problems:
            raise CommandError("Invalid gate configuration:\n  " + "\n  ".join(problems), returncode=1)
        summary = {
            "files": [p.name for p in paths],
            "frameworks": {
                code: {"version": fw.version, "requirements": len(fw.requirements), "checks": 0}
                for code, fw in catalogue.frameworks.items()
            },
            "checks": len(catalogue.checks),
            "aliases": dict(sorted(catalogue.aliases.items())),
            "digest": catalogue.digest,
        }
        for check in catalogue.checks.values():
            summary["frameworks"][check.framework]["checks"] += 1
        if opts["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(
            f"{len(paths)} catalogue file(s) valid: {summary['checks']} checks, {len(catalogue.aliases)} aliases."
        )
        for code, fw in summary["frameworks"].items():
            self.stdout.write(f"  {code:<7} v{fw['version']}: {fw['requirements']} requirements, {fw['checks']} checks")
