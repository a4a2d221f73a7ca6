"""ledger_record: record an AI action/decision/interaction, a violation or a correction from JSON
(a file, or - for stdin), for scripts and agent runtimes without HTTP access."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from accountability.exceptions import ValidationFailed
from accountability.selectors import registry as reg

from ...services import entries as svc
from ._ledger import LedgerCommand


def _load(path: str, flag: str) -> dict:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        data = json.loads(text)
    except OSError as exc:
        raise ValidationFailed({flag: [f"Cannot read {path}: {exc.strerror}."]}) from exc
    except json.JSONDecodeError as exc:
        raise ValidationFailed({flag: [f"Not JSON: {exc.msg} (line {exc.lineno})."]}) from exc
    if not isinstance(data, dict):
        raise ValidationFailed({flag: ["The JSON must be an object."]})
    return data


def _result(result) -> dict:
    return {
        "entry_id": result.entry_id,
        "entry_type": result.entry_type,
        "status": "integrated" if result.is_integrated else "pending",
        "seq": result.seq,
        "violations": result.violations,
    }


class Command(LedgerCommand):
    help = (
        "Record ledger entries from JSON. Examples:\n"
        "  ledger_record --user agent-runtime --project-id proj-101 --entry decision.json\n"
        "    (decision.json: {entry_type, actor, action, context, accountability[, occurred_at]}; a record the\n"
        "    model signed also holds project, occurred_at and model_signatures: see sign-record)\n"
        "  ledger_record --user gov.staff --project-id proj-101 --violation violation.json\n"
        "  ledger_record --user gov.staff --correction correction.json   ({corrects, reason, amendments})"
    )
    actions = ["entry", "violation", "correction"]

    def add_action_arguments(self, parser):
        parser.add_argument("--project-id", default="")
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--entry", metavar="FILE", help="An AI action, decision or interaction.")
        actions.add_argument("--violation", metavar="FILE", help="A violation record.")
        actions.add_argument("--correction", metavar="FILE", help="A correction of an entry.")

    def _project(self, actor, opts):
        if not opts["project_id"]:
            raise ValidationFailed({"project-id": ["This action needs --project-id."]})
        return reg.project_get(actor, opts["project_id"])

    def do_entry(self, actor, opts):
        data = _load(opts["entry"], "entry")
        fields = {"entry_type", "actor", "action", "context", "accountability", "occurred_at"}
        # A record the model signed also names its project (checked against --project-id).
        unknown = set(data) - fields - {"project", "model_signatures"}
        if unknown:
            raise ValidationFailed({"entry": [f"Unknown fields: {', '.join(sorted(unknown))}."]})
        return _result(
            svc.ledger_entry_append(
                actor=actor,
                project=self._project(actor, opts),
                entry_type=data.get("entry_type", ""),
                performer=data.get("actor"),
                action=data.get("action"),
                context=data.get("context"),
                accountability=data.get("accountability"),
                occurred_at=data.get("occurred_at"),
                signed_record=data if "model_signatures" in data else None,
            )
        )

    def do_violation(self, actor, opts):
        data = _load(opts["violation"], "violation")
        allowed = {
            "severity",
            "violator",
            "rule_violated",
            "evidence_entry_ids",
            "description",
            "immediate_action",
            "investigation_status",
            "corrective_action",
            "owner",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValidationFailed({"violation": [f"Unknown fields: {', '.join(sorted(unknown))}."]})
        missing = {"severity", "violator", "rule_violated", "evidence_entry_ids", "description"} - set(data)
        if missing:
            raise ValidationFailed({f: ["This field is required."] for f in sorted(missing)})
        return _result(svc.violation_record(actor=actor, project=self._project(actor, opts), **data))

    def do_correction(self, actor, opts):
        data = _load(opts["correction"], "correction")
        unknown = set(data) - {"corrects", "reason", "amendments", "retract", "owner"}
        if unknown:
            raise ValidationFailed({"correction": [f"Unknown fields: {', '.join(sorted(unknown))}."]})
        return _result(
            svc.correction_record(
                actor=actor,
                corrects=data.get("corrects", ""),
                reason=data.get("reason", ""),
                amendments=data.get("amendments"),
                retract=bool(data.get("retract", False)),
                owner=data.get("owner"),
            )
        )
