"""Ledger API input and output. Inputs are checked for shape here; the services validate the content
(and answer 400 with field messages, writing nothing)."""

from __future__ import annotations

import base64

from rest_framework import serializers

from ..schema import EntryType, InvestigationStatus, Severity
from ..selectors.entries import effective_document


def b64(data) -> str | None:
    """Standard base64 (as C2SP formats use), None for None."""
    return None if data is None else base64.b64encode(bytes(data)).decode()


def signatures_of(entry) -> list[dict]:
    """The model signatures an entry's document keeps ({alg, kid, digest, sig}); none once purged."""
    document = entry.document
    return list(((document or {}).get("integrity") or {}).get("signatures") or [])


def entry_data(entry, *, full: bool = True) -> dict:
    """An entry as the API shows it: the seed document as written (plus the corrected view when it
    was corrected), its integrity fields, and its place in the log."""
    integrated = entry.is_integrated
    data = {
        "entry_id": entry.entry_id,
        "entry_type": entry.entry_type,
        "project": entry.project_key or None,
        "status": "integrated" if integrated else "pending",
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat() if integrated else None,
        "received_at": entry.received_at.isoformat(),
        "actor": entry.actor_ref,
        "action_type": entry.action_type,
        "task_id": entry.task_id,
        "trace_id": entry.trace_id,
        "human_oversight": entry.oversight,
        "reversibility": entry.reversibility,
        "retention": entry.retention,
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "attribution_gaps": entry.gaps,
        "corrects": entry.corrects_entry_id or None,
    }
    if integrated:
        data["integrity"] = {
            "hash": bytes(entry.entry_hash).hex(),
            "previous_hash": bytes(entry.previous_hash).hex(),
            "payload_hash": bytes(entry.payload_hash).hex(),
        }
        if entry.redacted_at:
            data["purged"] = {"at": entry.redacted_at.isoformat(), "by": entry.redacted_by}
    if full:
        data["document"] = entry.document
        if integrated:  # the seed's model signatures, from the document (gone with it once purged)
            data["integrity"]["signatures"] = signatures_of(entry)
        effective, corrections = effective_document(entry)
        data["corrections"] = [c["entry_id"] for c in corrections]
        if corrections:
            data["corrected_document"] = effective
    return data


class _Integrity(serializers.Serializer):
    hash = serializers.CharField(help_text="entry_hash, hex: SHA-256(0x00 ‖ leaf).")
    previous_hash = serializers.CharField(help_text="The previous entry's hash, hex.")
    payload_hash = serializers.CharField(help_text="Salted SHA-256 of the payload, hex.")


class _Purged(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField(help_text="entry_id of the purge record.")


class EntryRowSerializer(serializers.Serializer):
    """Documents an entry as lists show it (``entry_data(full=False)``); the views build the dicts."""

    entry_id = serializers.CharField()
    entry_type = serializers.ChoiceField(choices=EntryType.choices)
    project = serializers.CharField(allow_null=True, help_text="None for ledger-wide entries.")
    status = serializers.ChoiceField(choices=["integrated", "pending"])
    seq = serializers.IntegerField(allow_null=True, help_text="Place in the log; None while pending.")
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="kind:id of the primary actor.")
    action_type = serializers.CharField()
    task_id = serializers.CharField()
    trace_id = serializers.CharField()
    human_oversight = serializers.CharField()
    reversibility = serializers.CharField()
    retention = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    attribution_gaps = serializers.ListField(child=serializers.CharField())
    corrects = serializers.CharField(allow_null=True, help_text="entry_id of the entry a correction amends.")
    integrity = _Integrity(required=False, help_text="Integrated entries only.")
    purged = _Purged(required=False, help_text="Only once the payload was purged after expiry.")


class AuditRowSerializer(EntryRowSerializer):
    """Documents an audit query's row: a list entry with its document (None once purged)."""

    document = serializers.JSONField(allow_null=True)


class AuditRowsSerializer(serializers.Serializer):
    """Documents an audit query's answer: at most ``limit`` rows, integrated and pending merged."""

    count = serializers.IntegerField(help_text="The number of rows in results (not a total).")
    truncated = serializers.BooleanField(
        help_text="More entries matched than ``limit``: narrow the query or raise the limit (at most 5000)."
    )
    results = AuditRowSerializer(many=True)


class _Project(serializers.Serializer):
    project = serializers.CharField(max_length=50, help_text="Project key, e.g. proj-101.")


class EntryInputSerializer(_Project):
    entry_type = serializers.ChoiceField(choices=[EntryType.ACTION, EntryType.DECISION, EntryType.INTERACTION])
    actor = serializers.JSONField(help_text="The AI model: {model_id, provider, model_version, session_id}.")
    action = serializers.DictField(help_text="{type, description, inputs, outputs, rationale, factors, alternatives}")
    context = serializers.DictField(required=False, help_text="{task_id, parent_entry, trace_id, related_…}")
    accountability = serializers.DictField(
        help_text="{human_oversight, reversibility, responsibility: {delegator, approver, oversight}}"
    )
    occurred_at = serializers.DateTimeField(required=False)
    model_signatures = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=1,
        help_text=(
            "The model's signature on this record: [{kid, sig}], sig = Ed25519 over "
            '"icdev/ai-ledger/model-signature/v1" 0x00 origin 0x00 SHA-256(RFC 8785 of the record without '
            "model_signatures). Needs a key registered for the model (model-keys), project and occurred_at "
            "in the record, and arrival within 15 minutes of occurred_at."
        ),
    )


class ViolationInputSerializer(_Project):
    severity = serializers.ChoiceField(choices=Severity.choices)
    violator = serializers.JSONField(help_text="A party {kind, id}, e.g. {kind: model, id: claude-opus}.")
    rule_violated = serializers.CharField(max_length=200)
    evidence_entry_ids = serializers.ListField(child=serializers.CharField(max_length=30), allow_empty=False)
    description = serializers.CharField(max_length=4000)
    immediate_action = serializers.CharField(max_length=4000, required=False, default="")
    investigation_status = serializers.ChoiceField(
        choices=InvestigationStatus.choices, required=False, default=InvestigationStatus.OPEN
    )
    corrective_action = serializers.CharField(max_length=4000, required=False, default="")
    owner = serializers.JSONField(required=False, help_text="Accountable owner {kind: user|org, id}; default: you.")


class CorrectionInputSerializer(serializers.Serializer):
    corrects = serializers.CharField(max_length=30)
    reason = serializers.CharField(max_length=4000)
    amendments = serializers.DictField(required=False, default=dict, help_text="{field path: new value}")
    retract = serializers.BooleanField(required=False, default=False)
    owner = serializers.JSONField(required=False)


class AppendOutputSerializer(serializers.Serializer):
    entry_id = serializers.CharField()
    entry_type = serializers.CharField()
    status = serializers.CharField()
    seq = serializers.IntegerField(allow_null=True)
    violations = serializers.ListField(child=serializers.CharField())


def append_data(result) -> dict:
    """What an append returns to API clients."""
    return {
        "entry_id": result.entry_id,
        "entry_type": result.entry_type,
        "status": "integrated" if result.is_integrated else "pending",
        "seq": result.seq,
        "violations": result.violations,
    }


def checkpoint_data(cp) -> dict:
    """A checkpoint with its signed note and the parsed origin, size and root."""
    text = cp.note[: cp.note.rfind("\n\n") + 1]
    origin = text.split("\n")[0]
    return {
        "origin": origin,
        "size": cp.tree_size,
        "root": b64(cp.root),
        "key_id": cp.key_id,
        "created_at": cp.created_at.isoformat(),
        "note": cp.note,
    }
