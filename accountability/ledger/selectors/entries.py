"""Reads of entries, checkpoints and proofs. Entries still waiting for the integrator (PostgreSQL)
are returned where an entry is looked up by id or trace, marked pending, with no seq or proof yet."""

from __future__ import annotations

import base64
import json
import weakref
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q

from accountability.exceptions import NotFound, ValidationFailed

from .. import keys, store
from ..build import ENTRY_ID_RE
from ..models import Checkpoint, LedgerEntry, PendingEntry
from ..offline import note as notes
from ..schema import PARTY_KINDS, TRACE_ID_RE, EntryType
from ..tiles import StoredTree
from ._scope import can_read, require_reader, scoped


def decision_entry_for_trace(trace_id: str, project_key: str = "") -> LedgerEntry | PendingEntry | None:
    """The Decision entry that recorded the AI decision with this W3C trace id, if the ledger has one
    (integrated first; a pending one has ``is_integrated`` False and ``seq`` None)."""
    for model in (LedgerEntry, PendingEntry):
        qs = model.objects.filter(trace_id=trace_id, entry_type=EntryType.DECISION)
        if trace_id:
            qs = qs.filter(trace_id__gt="")  # the condition of the partial index ledger_trace
        if project_key:
            qs = qs.filter(project_key=project_key)
        found = qs.order_by("occurred_at", "entry_id").first()
        if found is not None:
            return found
    return None


def people_named(entry, candidates) -> list:
    """The users among ``candidates`` whom the entry names as a party (its actor, delegator, approver or
    oversight), as written or as amended by a correction. Persons are stored as HMAC tokens of their
    username, so each candidate's tokens (under every live key) are computed and matched; nobody
    outside ``candidates`` is ever resolved."""
    original = entry.document
    if original is None:  # purged: only the actor index is left, and it names no person in clear
        return []
    corrected, _ = effective_document(entry)
    tokens = set()
    for doc in (original, corrected):
        responsibility = (doc.get("accountability") or {}).get("responsibility") or {}
        for party in (doc.get("actor"), *responsibility.values()):
            if isinstance(party, dict) and party.get("kind") == "user" and party.get("id"):
                tokens.add(party["id"])
    if not tokens:
        return []
    return [user for user in candidates if tokens.intersection(keys.pii_tokens(user.get_username()))]


def appended_count() -> int:
    """Entries appended so far, pending or integrated, excluding the genesis entry (tests count these)."""
    return PendingEntry.objects.count() + LedgerEntry.objects.filter(seq__gt=0).count()


def entry_documents(entry_ids: list[str]) -> dict[str, dict | None]:
    """entry_id -> the seed document as written (None once purged), pending entries included. For
    other capabilities' selectors that have already scoped what they show (e.g. evidence anchors)."""
    found: dict[str, dict | None] = {}
    for model in (LedgerEntry, PendingEntry):
        missing = [e for e in entry_ids if e not in found]
        if not missing:
            break
        for entry_id, payload in model.objects.filter(entry_id__in=missing).values_list("entry_id", "payload"):
            found[entry_id] = None if payload is None else json.loads(bytes(payload))
    return found


def entry_list(actor, *, entry_type=None, actor_ref=None, project_key=None, since=None, until=None):
    """Integrated entries the actor may read, newest first, filtered as asked."""
    qs = scoped(LedgerEntry.objects.all(), actor).defer("payload", "leaf_bytes", "payload_salt")
    if entry_type:
        qs = qs.filter(entry_type=entry_type)
    if actor_ref:
        qs = qs.filter(actor_ref=actor_ref)
    if project_key:
        qs = qs.filter(project_key=project_key)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    if until:
        qs = qs.filter(occurred_at__lt=until)
    return qs.order_by("-seq")


def pending_list(actor):
    """Accepted entries the integrator has not sequenced yet."""
    return scoped(PendingEntry.objects.all(), actor).order_by("id")


def entry_get(actor, entry_id: str) -> LedgerEntry | PendingEntry:
    """One entry by id (integrated or pending); NotFound when absent or in a project the actor cannot read."""
    entry_id = str(entry_id).strip()
    for model in (LedgerEntry, PendingEntry):
        found = _read_by_id(model, entry_id)
        if found is not None:
            if not can_read(actor, found.project_key):
                break
            return found
    raise NotFound(f"No ledger entry {entry_id!r}.")


# Per connection wrapper and model: the by-id statement, the fields' attribute names and, for each
# column whose raw value needs it, the backend's and the field's converters (SQLite's datetimes).
_read_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _read_plan(db, model) -> tuple[str, list[str], list[tuple[int, list]]]:
    """The by-id read of ``model`` on ``db``: its SQL, attribute names and converters, made once."""
    plans = _read_plans.setdefault(db, {})
    plan = plans.get(model)
    if plan is None:
        fields = model._meta.concrete_fields
        columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
        sql = f"SELECT {columns} FROM {model._meta.db_table} WHERE entry_id = %s"  # noqa: S608 - model names
        converters = []
        for i, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found = db.ops.get_db_converters(col) + col.get_db_converters(db)
            if found:
                converters.append((i, found, col))
        plan = plans[model] = (sql, [f.attname for f in fields], converters)
    return plan


def _read_by_id(model, entry_id: str):
    """The ``model`` row with this entry id, or None: one prepared statement and ``Model.from_db``.
    The API reads entries one at a time, and Django's raw() spent more than the indexed read itself
    on describing the result's 26 columns (0.43 → 0.19 ms an entry at 1,000,000 entries)."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, names, converters = _read_plan(db, model)
    row = store.execute(sql, [entry_id], fetch="one")
    if row is None:
        return None
    if converters:
        row = list(row)
        for i, funcs, col in converters:
            for convert in funcs:
                row[i] = convert(row[i], col, db)
    return model.from_db(db.alias, names, row)


def corrections_of(entry_id: str) -> list[dict]:
    """Corrections that amend an entry, in log order (integrated by seq, then pending as received)."""
    found = []
    for model, order in ((LedgerEntry, "seq"), (PendingEntry, "id")):
        rows = model.objects.filter(corrects_entry_id=entry_id)
        if entry_id:
            rows = rows.filter(corrects_entry_id__gt="")  # the condition of the partial index ledger_corrects
        for row in rows.order_by(order):
            doc = row.document or {}
            found.append({"entry_id": row.entry_id, "seq": row.seq, "at": doc.get("timestamp"), **doc["correction"]})
    return found


def _set_path(doc: dict, path: str, value) -> None:
    parts = path.split(".")
    target = doc
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def effective_document(entry) -> tuple[dict | None, list[dict]]:
    """The entry as corrected: its document with every correction's amendments applied in order
    (the entry itself is never changed), and the corrections."""
    corrections = corrections_of(entry.entry_id)
    doc = entry.document
    if doc is None:
        return None, corrections
    for corr in corrections:
        for path, value in corr.get("amendments", {}).items():
            _set_path(doc, path, value)
        if corr.get("retracted"):
            doc["retracted"] = {"by": corr["entry_id"], "reason": corr.get("reason", "")}
    return doc, corrections


def _b64(data) -> str:
    return base64.b64encode(bytes(data)).decode()


def checkpoint_latest() -> Checkpoint | None:
    """The newest signed checkpoint (public-verifiable data: origin, size, root, signatures)."""
    return Checkpoint.objects.order_by("-tree_size").first()


def checkpoint_at(size: int) -> Checkpoint | None:
    """The checkpoint signed at exactly this tree size, if any."""
    return Checkpoint.objects.filter(tree_size=size).first()


@dataclass
class Inclusion:
    entry: LedgerEntry
    checkpoint: Checkpoint
    path: list[bytes]

    @property
    def tlog_proof(self) -> str:
        return notes.format_proof(self.entry.seq, self.path, self.checkpoint.note)

    def as_dict(self) -> dict:
        return {
            "index": self.entry.seq,
            "tree_size": self.checkpoint.tree_size,
            "leaf_hash": _b64(self.entry.entry_hash),
            "leaf": _b64(self.entry.leaf_bytes),
            "path": [_b64(h) for h in self.path],
            "checkpoint": self.checkpoint.note,
            "tlog_proof": self.tlog_proof,
        }


def entry_inclusion(entry: LedgerEntry, size: int | None = None) -> Inclusion | None:
    """The inclusion proof of an integrated entry in the latest checkpoint (or the one at ``size``);
    None while no checkpoint covers the entry yet. The checkpoint, the log's genesis hash (the tile
    cache's key) and the tiles on the entry's path come in one query (``StoredTree.with_checkpoint``);
    the right edge comes from the checkpoint's compact range when it folds to the signed root."""
    checkpoint, tree = StoredTree.with_checkpoint(entry.seq, size)
    if size is not None and checkpoint is None:
        raise ValidationFailed({"size": [f"No checkpoint was signed at size {size}."]})
    if checkpoint is None or checkpoint.tree_size <= entry.seq:
        return None
    return Inclusion(entry, checkpoint, tree.inclusion_proof(entry.seq, checkpoint.tree_size))


def consistency(old: int, new: int | None = None) -> dict:
    """A consistency proof from tree size ``old`` to ``new`` (default: the latest checkpoint), with
    both sizes' roots; ``new`` must be a checkpointed size so the client can check the signature."""
    latest = checkpoint_latest()
    if latest is None:
        raise NotFound("No checkpoint has been signed yet.")
    errors = {}
    new = latest.tree_size if new is None else new
    target = checkpoint_at(new)
    if target is None:
        errors["new"] = [f"No checkpoint was signed at size {new}; the latest is {latest.tree_size}."]
    if not 0 <= old <= new:
        errors["old"] = [f"Must be between 0 and {new}."]
    if errors:
        raise ValidationFailed(errors)
    tree = StoredTree()
    return {
        "origin": keys.origin(),
        "old": old,
        "new": new,
        "old_root": _b64(tree.root(old)),
        "new_root": _b64(target.root),
        "proof": [_b64(h) for h in tree.consistency_proof(old, new)],
        "checkpoint": target.note,
    }


def actor_refs(actor, limit: int = 100) -> list[str]:
    """The distinct actor refs (``kind:id``) of integrated entries the actor may read, in order, up to
    ``limit``: one index probe per actor (a loose index scan over ``ledger_actor_time``), where
    SELECT DISTINCT reads every index entry (0.36 s at 1,000,000 entries)."""
    keys = require_reader(actor)
    table = LedgerEntry._meta.db_table
    scope, params = "", []
    if keys is not None:
        marks = ", ".join(["%s"] * (len(keys) + 1))
        scope, params = f" AND project_key IN ({marks})", [*sorted(keys), ""]
    # Each step asks for the smallest ref above the last one: the index answers that with one probe.
    sql = (
        f"WITH RECURSIVE refs(ref, n) AS (SELECT (SELECT MIN(actor_ref) FROM {table} WHERE 1 = 1{scope}), 1 "  # noqa: S608
        f"UNION ALL SELECT (SELECT MIN(actor_ref) FROM {table} WHERE actor_ref > refs.ref{scope}), n + 1 "
        "FROM refs WHERE refs.ref IS NOT NULL AND n < %s) "
        "SELECT ref FROM refs WHERE ref IS NOT NULL ORDER BY ref"
    )
    with connections[DEFAULT_DB_ALIAS].cursor() as cur:
        cur.execute(sql, [*params, *params, limit])
        return [ref for (ref,) in cur.fetchall()]


def entry_search_q(term: str) -> Q:
    """What a reviewer's search term names, as exact lookups that each go through an index: an entry
    id, a trace id, or else a task id or an actor. A substring search cannot use an index: one that
    matched nothing read the whole log (6.5 s at a million entries)."""
    term = term.strip()
    if ENTRY_ID_RE.match(term):
        return Q(entry_id=term)
    if TRACE_ID_RE.match(term):
        return Q(trace_id=term, trace_id__gt="")  # the partial index's condition
    return Q(task_id=term) | Q(actor_ref__in=_actor_refs_named(term))


def _actor_refs_named(term: str) -> list[str]:
    """The actor refs a term can name: ``kind:id`` as typed, or a bare id under each party kind; a
    person under their tokens, since persons are stored only as HMAC tokens."""
    kind, _, ident = term.partition(":")
    if ident and kind in PARTY_KINDS:
        refs, person = [term], ident if kind == "user" else None
    else:
        refs, person = [f"{k}:{term}" for k in PARTY_KINDS if k != "user"], term
    return refs + ([f"user:{t}" for t in keys.pii_tokens(person)] if person else [])
