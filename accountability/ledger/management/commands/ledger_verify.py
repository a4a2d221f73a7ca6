"""ledger_verify: re-verify the stored ledger (full, or incremental from a signed checkpoint)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from accountability.exceptions import ValidationFailed

from ...services.verification import ledger_verify
from ._ledger import LedgerCommand


class Command(LedgerCommand):
    help = (
        "Re-verify every leaf hash, the prev chain, sequence numbers, payload commitments, purges, tiles and "
        "every signed checkpoint; exit status 1 names the first bad entry and the reason. Examples:\n"
        "  ledger_verify                     full verification\n"
        "  ledger_verify --since-checkpoint  from the newest checkpoint a successful run covered\n"
        "  ledger_verify --checkpoint saved.note --json   also check a checkpoint you kept elsewhere\n"
        "  ledger_verify --model-signatures  also check the entries' model signatures against the registered keys"
    )
    actions = ["full", "since_checkpoint"]
    default_action = "full"
    system_actor = "cli:ledger_verify"

    def add_action_arguments(self, parser):
        mode = parser.add_argument_group("mode (default --full)")
        mode.add_argument("--full", action="store_true", help="Verify the whole log from the genesis entry.")
        mode.add_argument(
            "--since-checkpoint",
            action="store_true",
            help="Verify only entries after a trusted checkpoint (--checkpoint, or the last verified one).",
        )
        parser.add_argument("--checkpoint", metavar="FILE", help="A signed checkpoint note you saved earlier.")
        parser.add_argument("--vkey", action="append", default=[], help="Another trusted public key (repeatable).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--model-signatures",
            action="store_true",
            help="Then check every signed entry's model signatures against the registered model keys "
            "(an Ed25519 check per signature, so not by default).",
        )

    def _run(self, actor, opts, incremental: bool):
        note = None
        if opts.get("checkpoint"):
            try:
                note = Path(opts["checkpoint"]).read_text()
            except OSError as exc:
                raise ValidationFailed({"checkpoint": [f"Cannot read {opts['checkpoint']}: {exc.strerror}."]}) from exc
        quiet = opts["json"] or opts["no_progress"]
        progress = Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            disable=quiet,
        )
        with progress:
            task = progress.add_task("entries", total=None)
            result = ledger_verify(
                actor=actor,
                incremental=incremental,
                checkpoint_note=note,
                vkeys=opts["vkey"],
                progress=lambda done, total: progress.update(task, completed=done, total=max(total, done)),
                model_signatures=opts["model_signatures"],
            )
        report = result.report
        data = report.as_dict()
        if not report.ok:
            first = report.first_problem
            self.failed = f"ledger verification FAILED: first bad entry {first}"
            if not opts["json"]:
                self.stderr.write(self.failed)
        return data

    def do_full(self, actor, opts):
        return self._run(actor, opts, incremental=False)

    def do_since_checkpoint(self, actor, opts):
        return self._run(actor, opts, incremental=True)

    def print_mapping(self, data, indent: int = 0):
        if indent or not isinstance(data, dict) or "chain_integrity" not in data:
            return super().print_mapping(data, indent)
        status = "OK" if data["ok"] else "FAILED"
        self.stdout.write(
            f"{status}: {data['checked']} entries checked (sizes {data['from_size']}..{data['size']}), "
            f"chain integrity {data['chain_integrity']} %, {data['checkpoints_verified']} checkpoints and "
            f"{data['tiles_verified']} tiles verified, {data['purged_payloads']} purged payloads, "
            f"{data['entries_per_second']} entries/s"
            + (
                f", {data['model_signatures_checked']} model signatures checked"
                if "model_signatures_checked" in data
                else ""
            )
        )
        for problem in data["problems"][:20]:
            self.stdout.write(f"  seq {problem['seq']} {problem['entry_id']}: {problem['reason']}: {problem['detail']}")
