"""ledger_export DIR: an offline-verifiable copy of the ledger for outside auditors."""

from __future__ import annotations

from ...services.export import ledger_export
from ._ledger import LedgerCommand


class Command(LedgerCommand):
    help = (
        "Write tiles, entry bundles, payloads you may read (purged ones are gone), every signed checkpoint, the "
        "public keys and the model keys of your projects (model_keys.json) into an empty DIR. Verify it anywhere "
        "with:\n"
        "  python -m accountability.ledger.offline verify DIR --vkey '<the log's public key>'"
    )
    actions = ["directory"]

    def add_action_arguments(self, parser):
        parser.add_argument("directory", help="An empty or new directory.")

    def do_directory(self, actor, opts):
        return ledger_export(actor=actor, directory=opts["directory"])
