"""ledger_integrate: the single integrator (PostgreSQL): sequences queued entries, extends the tree and
signs a checkpoint after every batch. Run one (or more: only the leader works, the others wait)."""

from __future__ import annotations

import json
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ...services.integration import integrate_pending
from ...store import INTEGRATOR_LOCK, integrate_batch, mode, sign_checkpoint_if_behind


class Command(BaseCommand):
    help = "Integrate queued ledger entries: --once drains the queue and exits, otherwise runs as a daemon."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain the queue, sign a checkpoint, exit.")
        parser.add_argument("--interval", type=float, default=settings.ICDEV_LEDGER_INTEGRATE_INTERVAL)
        parser.add_argument("--batch", type=int, default=settings.ICDEV_LEDGER_INTEGRATE_BATCH)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if opts["batch"] < 1 or opts["interval"] <= 0:
            raise CommandError("--batch must be at least 1 and --interval positive.", returncode=2)
        if opts["once"]:
            count = integrate_pending()
            self.stdout.write(json.dumps({"integrated": count}) if opts["json"] else f"Integrated {count} entries.")
            return
        if mode() != "queue":
            raise CommandError("Appends are inline on this database; there is no queue to integrate.", returncode=2)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        leader = False
        self.stdout.write("ledger integrator: waiting to lead (pg advisory lock)")
        while not stop:
            if not leader:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_try_advisory_lock(%s)", [INTEGRATOR_LOCK])
                    leader = bool(cur.fetchone()[0])
                if not leader:
                    time.sleep(1.0)
                    continue
                self.stdout.write("ledger integrator: leading")
                sign_checkpoint_if_behind()
            done = integrate_batch(opts["batch"]) or 0
            if done and opts["verbosity"] > 1:
                self.stdout.write(f"integrated {done}")
            if done < opts["batch"]:
                time.sleep(opts["interval"])
        self.stdout.write("ledger integrator: stopped")
