"""ledger_audit: the seed's audit queries, explanations, proofs and metrics from the command line."""

from __future__ import annotations

from django.core.management.base import CommandError

from ... import selectors as sel
from ...api.serializers import entry_data
from ...selectors._scope import can_read
from ._ledger import LedgerCommand, parse_time


def _row(entry) -> list:
    return [
        entry.seq if entry.seq is not None else "pending",
        entry.entry_id,
        entry.entry_type,
        entry.project_key,
        entry.actor_ref,
        entry.action_type,
        entry.occurred_at.isoformat(timespec="seconds"),
    ]


COLUMNS = ["seq", "entry", "type", "project", "actor", "action", "occurred"]


class Command(LedgerCommand):
    help = (
        "Audit queries over the entries you may read (history.view). Examples:\n"
        "  ledger_audit --user auditor --by-model claude-opus [--since 2026-01-01 --until 2026-02-01]\n"
        "  ledger_audit --user auditor --task TASK-123\n"
        "  ledger_audit --user auditor --violations --start 2026-01-01 --end 2026-02-01\n"
        "  ledger_audit --user auditor --responsibility LED-…   (or --explain LED-…, --entry LED-…)\n"
        "  ledger_audit --user auditor --metrics --json"
    )
    actions = ["by_model", "task", "violations", "responsibility", "explain", "entry", "metrics"]

    def add_action_arguments(self, parser):
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--by-model", metavar="MODEL_ID", help="All entries whose actor is this model.")
        actions.add_argument("--task", metavar="TASK_ID", help="The decision chain of a task, in time order.")
        actions.add_argument("--violations", action="store_true", help="Violations in [--start, --end).")
        actions.add_argument("--responsibility", metavar="ENTRY_ID", help="The responsibility chain of an entry.")
        actions.add_argument("--explain", metavar="ENTRY_ID", help="A plain-language explanation of an entry.")
        actions.add_argument("--entry", metavar="ENTRY_ID", help="An entry with its inclusion proof.")
        actions.add_argument("--metrics", action="store_true", help="entries_per_day, chain_integrity, …")
        parser.add_argument("--project-id", default="", help="Limit to one project (key).")
        parser.add_argument("--since")
        parser.add_argument("--until")
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--limit", type=int, default=500)

    def _table(self, title, rows):
        if getattr(rows, "truncated", False):  # on stderr, so --json output stays the list it was
            self.stderr.write(
                f"More entries matched than the {len(rows)} shown: narrow the query or raise --limit (at most 5000)."
            )
        data = [entry_data(r, full=False) | {"document": r.document} for r in rows]
        return data, self.table(title, COLUMNS, [_row(r) for r in rows])

    def _project(self, actor, opts) -> str:
        key = opts["project_id"]
        if key and not can_read(actor, key):
            raise CommandError(f"not_found: No project {key!r}.", returncode=3)
        return key

    def do_by_model(self, actor, opts):
        rows = sel.actions_by_model(
            actor,
            opts["by_model"],
            project_key=self._project(actor, opts),
            since=parse_time(opts["since"], "since"),
            until=parse_time(opts["until"], "until"),
            limit=opts["limit"],
        )
        return self._table(f"Entries by {opts['by_model']}", rows)

    def do_task(self, actor, opts):
        rows = sel.decision_chain(actor, opts["task"], project_key=self._project(actor, opts), limit=opts["limit"])
        return self._table(f"Decision chain of {opts['task']}", rows)

    def do_violations(self, actor, opts):
        rows = sel.violations_between(
            actor,
            parse_time(opts["start"], "start"),
            parse_time(opts["end"], "end"),
            project_key=self._project(actor, opts),
            limit=opts["limit"],
        )
        return self._table("Violations", rows)

    def do_responsibility(self, actor, opts):
        return sel.responsibility_chain(actor, opts["responsibility"])

    def do_explain(self, actor, opts):
        data = sel.entry_explanation(actor, opts["explain"])
        return (data, None) if self.as_json else ({"explanation": data["text"]}, None)

    def do_entry(self, actor, opts):
        entry = sel.entry_get(actor, opts["entry"])
        inclusion = sel.entry_inclusion(entry) if entry.is_integrated else None
        return {"entry": entry_data(entry), "proof": inclusion.as_dict() if inclusion else None}

    def do_metrics(self, actor, opts):
        return sel.ledger_metrics(actor, project_key=self._project(actor, opts), days=opts["days"])
