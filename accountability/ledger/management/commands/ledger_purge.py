"""ledger_purge: the retention purge (also run daily by Celery beat as ledger.purge_expired)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from ...services.retention import ledger_purge
from ._ledger import LedgerCommand


class Command(LedgerCommand):
    help = (
        "NULL the payloads (and salts) of expired entries and append a Governance purge record. "
        "--entry LED-… purges exactly those entries, and refuses if any has not expired."
    )
    actions = ["run"]
    default_action = "run"
    system_actor = "cli:ledger_purge"

    def add_action_arguments(self, parser):
        parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--entry", action="append", default=[], metavar="ENTRY_ID")
        parser.add_argument("--limit", type=int, default=10000)
        parser.add_argument("--dry-run", action="store_true", help="Say what would be purged; change nothing.")

    def do_run(self, actor, opts):
        result = ledger_purge(
            actor=actor, entry_ids=opts["entry"] or None, limit=opts["limit"], dry_run=opts["dry_run"]
        )
        return asdict(result)
