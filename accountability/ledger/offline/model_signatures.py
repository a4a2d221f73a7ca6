"""Model signatures in a verification (``--model-signatures``): a pass of its own over the payloads,
run only when asked, after the log itself has been checked.

For every entry whose document carries ``integrity.signatures``, each signature must name a key
registered in the entry's project (``model_key_unknown``), registered to the model the entry names as
its actor (``model_key_mismatch``), not revoked at or before the entry's time (``model_key_revoked``),
and it must verify over the stored digest for this log's origin (``model_signature_invalid``).

An Ed25519 verification costs 50-120 µs, several times the whole verification of an entry, so
nothing of this runs in the default path: the portal reads the keys from its ModelKey table, an
export from ``model_keys.json``. Standard library and ``cryptography`` only, like the rest of the
package.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import signing
from .formats import format_time, parse_time

MODEL_KEYS_FILE = "model_keys.json"
# A canonical document can hold these bytes only as a key (a quote inside a string is escaped), so
# payloads without them are skipped without parsing.
_MARK = b'"integrity":'


@dataclass(frozen=True)
class ModelKey:
    """A registered model key as the check needs it."""

    project: str
    model_id: str
    kid: str
    public_key: bytes
    revoked_at: dt.datetime | None


KeyTable = dict[tuple[str, str], ModelKey]  # (project key, kid) -> key


def key_table(rows: Iterable[dict]) -> KeyTable:
    """Keys by (project, kid) from rows shaped like ``model_keys.json`` items (times as datetimes or as
    ``format_time`` text); ValueError names the first unusable row."""
    table: KeyTable = {}
    for n, row in enumerate(rows):
        try:
            public = signing.parse_public_key(row["public_key"])
            revoked = row.get("revoked_at")
            if isinstance(revoked, str):
                revoked = parse_time(revoked)
            key = ModelKey(str(row["project"]), str(row["model_id"]), str(row["kid"]), public, revoked)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"model key {n}: {exc}") from exc
        if key.kid != signing.key_id(public):
            raise ValueError(f"model key {n}: kid {key.kid} is not the id of its public key")
        table[(key.project, key.kid)] = key
    return table


def load_model_keys(root: Path) -> KeyTable:
    """The model keys shipped in an export; ValueError when the file is missing or malformed."""
    path = Path(root) / MODEL_KEYS_FILE
    if not path.is_file():
        raise ValueError(f"{MODEL_KEYS_FILE} is missing (the export predates model signatures)")
    rows = json.loads(path.read_text())
    if not isinstance(rows, list):
        raise ValueError(f"{MODEL_KEYS_FILE} is not a list of keys")
    return key_table(rows)


def check_signature(document: dict, stored, keys: KeyTable, origin: str) -> tuple[str, str]:
    """One stored signature of a document: ("", "") when it holds, else (reason, detail)."""
    kid = stored.get("kid") if isinstance(stored, dict) else None
    project = document.get("project", "")
    key = keys.get((project, kid)) if isinstance(kid, str) else None
    if key is None:
        return "model_key_unknown", f"no key {kid!r} is registered in project {project!r}"
    actor = document.get("actor")
    actor_id = actor.get("id") if isinstance(actor, dict) else None
    if actor_id != key.model_id:
        return "model_key_mismatch", f"key {kid} is registered to {key.model_id!r}, the entry's actor is {actor_id!r}"
    if key.revoked_at is not None:
        try:
            when = parse_time(document.get("timestamp"))
        except (TypeError, ValueError):
            return "model_signature_invalid", "the entry's timestamp cannot be read"
        if when >= key.revoked_at:
            return "model_key_revoked", f"key {kid} was revoked at {format_time(key.revoked_at)}, before the entry"
    reason = signing.verify_stored(stored, key.public_key, origin)
    return ("model_signature_invalid", reason) if reason else ("", "")


def check_entries(verifier, entries: Iterable[tuple[int, bytes]], keys: KeyTable) -> int:
    """Check the model signatures of ``entries`` ((seq, payload) pairs) and report each failure to
    ``verifier`` (a LogVerifier, before its ``finish``), so it counts like any other problem.
    Returns how many signatures were checked."""
    checked = 0
    origin = verifier.origin
    for seq, payload in entries:
        if _MARK not in payload:
            continue
        try:
            document = json.loads(payload)
        except ValueError:
            continue  # not a document: the payload commitment check has its say on this entry
        integrity = document.get("integrity") if isinstance(document, dict) else None
        if integrity is None:
            continue
        entry_id = str(document.get("entry_id", ""))
        signatures = integrity.get("signatures") if isinstance(integrity, dict) else None
        if not isinstance(signatures, list) or not signatures:
            verifier.problem(seq, "model_signature_invalid", "integrity.signatures holds no signatures", entry_id)
            continue
        for stored in signatures:
            checked += 1
            reason, detail = check_signature(document, stored, keys, origin)
            if reason:
                verifier.problem(seq, reason, detail, entry_id)
    return checked
