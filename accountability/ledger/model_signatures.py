"""Checking a model's signature on the record it submits, before the ledger accepts it (formulas in
``offline/signing.py``). A signed record must name its project and the time it happened, its one
signature must verify against a key registered for that model in that project and not revoked, and
it must reach the ledger within ``MAX_SIGNED_AGE`` of that time and only once: a captured record cannot
be replayed later, or twice. What the entry keeps, ``{alg, kid, digest, sig}``, lets anyone holding
the model's public key check the signature again, offline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import rfc8785
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accountability.exceptions import Conflict, ValidationFailed

from . import keys
from .build import Errors, party
from .models import LedgerEntry, ModelKey, PendingEntry
from .offline import signing
from .schema import party_ref

MAX_SIGNED_AGE = dt.timedelta(minutes=15)
ITEM_FIELDS = frozenset({"alg", "kid", "sig"})


@dataclass(frozen=True)
class Signed:
    """A verified submission: what the entry's document keeps, and what a replay check looks for."""

    stored: dict
    actor_ref: str
    occurred_at: dt.datetime

    @property
    def marker(self) -> bytes:
        """The digest as it appears in the stored document (RFC 8785 bytes)."""
        return b'"digest":"' + self.stored["digest"].encode() + b'"'


def _fail(path: str, message: str) -> ValidationFailed:
    return ValidationFailed({path: [message]})


def verify_submission(*, record, project_key: str, now: dt.datetime | None = None) -> Signed:
    """Check the signature a record carries (``record`` is the JSON object as submitted, its
    ``model_signatures`` included); ValidationFailed names the field at fault, and nothing is written."""
    if not isinstance(record, dict):
        raise _fail("model_signatures", "Send a signed record as a JSON object.")
    items = record.get(signing.FIELD)
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise _fail("model_signatures", "One signature: [{kid, sig}] from the model that performed the action.")
    item = items[0]
    unknown = item.keys() - ITEM_FIELDS
    if unknown:
        raise _fail("model_signatures[0]", f"Unknown fields: {', '.join(sorted(unknown))}.")
    if item.get("alg", signing.ALG) != signing.ALG:
        raise _fail("model_signatures[0].alg", "Only ed25519 signatures are accepted.")
    kid = item.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _fail("model_signatures[0].kid", "The id of the model's registered key.")
    try:
        signature = signing.decode_b64(item.get("sig"), signing.SIGNATURE_SIZE, "signature")
    except signing.SignatureError as exc:
        raise _fail("model_signatures[0].sig", f"The Ed25519 signature: {exc}.") from exc
    if record.get("project") != project_key:
        raise _fail("project", "A signed record names its project, and it must be the one it is recorded in.")
    errors = Errors()
    performer = party(record.get("actor"), "actor", errors, kinds=("model",))
    if performer is None:
        raise _fail("actor", "Only an AI model (actor kind model) signs its records.")
    occurred = _occurred(record.get("occurred_at"))
    now = now or timezone.now()
    if occurred < now - MAX_SIGNED_AGE:
        minutes = int(MAX_SIGNED_AGE.total_seconds() // 60)
        raise _fail("occurred_at", f"A signed record must reach the ledger within {minutes} minutes of occurred_at.")
    key = ModelKey.objects.filter(project__key=project_key, kid=kid).first()
    if key is None or key.model_id != performer["id"]:
        raise _fail("model_signatures[0].kid", f"No key {kid} is registered for {performer['id']} in {project_key}.")
    if not key.active_at(now):
        raise _fail("model_signatures[0].kid", f"Key {kid} was revoked on {key.revoked_at.isoformat()}.")
    try:
        digest = signing.record_digest(record, canonical=rfc8785.dumps)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise _fail("model_signatures", f"The record has no RFC 8785 form: {exc}.") from exc
    public = signing.decode_b64(key.public_key, signing.PUBLIC_KEY_SIZE, "public key")
    if not signing.verify(public, keys.origin(), digest, signature):
        raise _fail(
            "model_signatures[0].sig",
            f"Does not verify with key {kid} over this record for the log {keys.origin()}.",
        )
    stored = {"alg": signing.ALG, "digest": signing.b64(digest), "kid": kid, "sig": signing.b64(signature)}
    return Signed(stored, party_ref(performer), occurred)


def require_unsigned_allowed(project, performer) -> None:
    """A model with a live key in the project signs its records there: an unsigned one is refused, or
    the key would prove nothing (whoever may append could leave the signature out)."""
    who = party(performer, "actor", Errors(), kinds=("model", "system"))
    if who is None or who["kind"] != "model":
        return  # build() reports a malformed actor with its own messages
    now = timezone.now()
    live = ModelKey.objects.filter(project=project, model_id=who["id"], registered_at__lte=now)
    if live.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)).exists():
        raise _fail(
            "model_signatures",
            f"Required: {who['id']} has a registered key in {project.key}, so its records there are signed "
            "(python -m accountability.ledger.offline sign-record).",
        )


def _occurred(value) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise _fail("occurred_at", "A signed record states when it happened (ISO 8601 with a timezone).")
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail("occurred_at", "Not an ISO 8601 timestamp.") from exc
    if when.tzinfo is None:
        raise _fail("occurred_at", "A timezone-aware timestamp is required.")
    return when


def refuse_replay(signed: Signed) -> None:
    """Conflict if the same signed record is already in the ledger (pending or integrated). Runs in
    the append's transaction; on PostgreSQL a transaction-scoped advisory lock on the digest makes a
    second copy wait for the first and then see it (SQLite's write transactions are serial)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                ["icdev-ledger-signed:" + signed.stored["digest"]],
            )
    marker = signed.marker
    for model in (PendingEntry, LedgerEntry):
        # The actor's entries at that instant (LedgerEntry's actor/time index; the queue is short),
        # then the digest in their documents.
        rows = model.objects.filter(actor_ref=signed.actor_ref, occurred_at=signed.occurred_at, payload__isnull=False)
        for entry_id, payload in rows.values_list("entry_id", "payload"):
            if marker in bytes(payload):
                raise Conflict(f"This signed record is already in the ledger as {entry_id}.")
