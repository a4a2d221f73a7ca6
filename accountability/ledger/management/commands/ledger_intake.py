"""ledger_intake: group commit for appends on their own (PostgreSQL). Listens on a Unix socket; writers
that have ICDEV_LEDGER_INTAKE_SOCKET set send their pending rows here, and each batch that arrived
together is stored in one statement and one commit (``accountability/ledger/intake.py``)."""

from __future__ import annotations

import json
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ...intake import MAX_BATCH, Intake
from ...store import mode


class Command(BaseCommand):
    help = "Accept ledger appends on a Unix socket and commit them in batches (PostgreSQL). Runs until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--socket",
            default=settings.ICDEV_LEDGER_INTAKE_SOCKET,
            help="Socket path (default: ICDEV_LEDGER_INTAKE_SOCKET, which the writers read too).",
        )
        parser.add_argument("--max-batch", type=int, default=64, help=f"Rows per commit at most (1 to {MAX_BATCH}).")
        parser.add_argument(
            "--committers", type=int, default=1, help="Threads committing batches, each with its own connection."
        )
        parser.add_argument("--json", action="store_true", help="Print the totals as JSON when stopped.")

    def handle(self, *args, **opts):
        if not opts["socket"]:
            raise CommandError("No socket: pass --socket or set ICDEV_LEDGER_INTAKE_SOCKET.", returncode=2)
        if not 1 <= opts["max_batch"] <= MAX_BATCH:
            raise CommandError(f"--max-batch must be 1 to {MAX_BATCH}.", returncode=2)
        if not 1 <= opts["committers"] <= 8:
            raise CommandError("--committers must be 1 to 8.", returncode=2)
        if connection.vendor != "postgresql" or mode() != "queue":
            raise CommandError(
                "Appends are inline on this database; the intake serves PostgreSQL's queue.", returncode=2
            )
        if opts["socket"] != settings.ICDEV_LEDGER_INTAKE_SOCKET:
            self.stderr.write(
                f"note: writers send to ICDEV_LEDGER_INTAKE_SOCKET ({settings.ICDEV_LEDGER_INTAKE_SOCKET or 'unset'}), "
                f"not to {opts['socket']}"
            )
        intake = Intake(opts["socket"], max_batch=opts["max_batch"])
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if not opts["json"]:
            self.stdout.write(f"ledger intake: listening on {opts['socket']}")
        try:
            totals = intake.serve(stop, committers=opts["committers"])
        except OSError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        figures = {
            "batches": totals.batches,
            "rows": totals.rows,
            "stored": totals.stored,
            "largest_batch": totals.largest_batch,
            "refused_peers": totals.refused_peers,
            "bad_requests": totals.bad_requests,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(figures))
        else:
            mean = totals.rows / totals.batches if totals.batches else 0
            self.stdout.write(
                f"ledger intake: stopped; {totals.rows} rows in {totals.batches} commits (mean {mean:.1f}, "
                f"largest {totals.largest_batch}), {totals.stored} stored"
            )
