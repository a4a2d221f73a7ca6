"""Model signatures (the seed's ``integrity.signatures``): an AI system signs the record it submits
with its own Ed25519 key, so the log holds evidence that the model itself asserted what the entry
says, not only that someone allowed to append did.

    digest  = SHA-256(RFC 8785 bytes of the record, without its "model_signatures" member)
    message = "icdev/ai-ledger/model-signature/v1" ‖ 0x00 ‖ log origin ‖ 0x00 ‖ digest
    kid     = first 16 hex digits of SHA-256("icdev/ai-ledger/model-key/v1" ‖ 0x00 ‖ public key)

The record is the JSON object sent to the entries API (or given to ``ledger_record --entry``). The
log checks the signature against the key registered for that model in that project before it
accepts the record, and keeps ``{alg, kid, digest, sig}`` in the entry's document, so anyone holding
the model's public key can check it again offline. The origin in the message stops a record signed
for one log from being replayed into another.

Standard library and ``cryptography`` only, like the rest of this package: models sign with it
(``python -m accountability.ledger.offline sign-record``) and auditors verify with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "ed25519"
KEY_DOMAIN = b"icdev/ai-ledger/model-key/v1\x00"
SIGNATURE_DOMAIN = b"icdev/ai-ledger/model-signature/v1\x00"
FIELD = "model_signatures"
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
KID_LENGTH = 16


class SignatureError(ValueError):
    """A key or signature that cannot be used (malformed, wrong size, does not verify)."""


def decode_b64(text: str, size: int, what: str) -> bytes:
    """Standard base64 of exactly ``size`` bytes, or SignatureError naming ``what``."""
    if not isinstance(text, str):
        raise SignatureError(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc
    if len(raw) != size:
        raise SignatureError(f"{what} must be {size} bytes, not {len(raw)}")
    return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_id(public_key: bytes) -> str:
    """The key's id: a hash of the raw public key, so two registrations of one key share it."""
    return hashlib.sha256(KEY_DOMAIN + public_key).hexdigest()[:KID_LENGTH]


def parse_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from its base64 text (SignatureError if it is not one)."""
    raw = decode_b64(text, PUBLIC_KEY_SIZE, "public key")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - every 32-byte string loads; kept for other backends
        raise SignatureError("not an Ed25519 public key") from exc
    return raw


def jcs(value) -> bytes:
    """RFC 8785 bytes for JSON without floats and with ASCII keys (where sorted compact ``json.dumps``
    is JCS): what a signer without an RFC 8785 library can produce. Anything else is refused rather
    than encoded differently from JCS."""
    _check_plain(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _check_plain(value, depth: int = 0) -> None:
    if depth > 64:
        raise SignatureError("the record is nested too deeply")
    if isinstance(value, float):
        raise SignatureError("floats have no single JSON form here: send decimal strings")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise SignatureError("record keys must be ASCII strings")
            _check_plain(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_plain(item, depth + 1)
    elif not (value is None or isinstance(value, bool | int | str)):
        raise SignatureError(f"{type(value).__name__} is not a JSON value")


def unsigned(record: dict) -> dict:
    """The record as signed: without its signatures."""
    return {k: v for k, v in record.items() if k != FIELD}


def record_digest(record: dict, canonical=jcs) -> bytes:
    """SHA-256 of the record's RFC 8785 bytes, its signatures left out. ``canonical`` is the JCS
    encoder (the portal passes the ``rfc8785`` reference implementation)."""
    return hashlib.sha256(canonical(unsigned(record))).digest()


def message(origin: str, digest: bytes) -> bytes:
    """The bytes a model signs: domain, log origin, record digest."""
    return SIGNATURE_DOMAIN + origin.encode("utf-8") + b"\x00" + digest


def sign(private_key: Ed25519PrivateKey, origin: str, record: dict) -> dict:
    """The record with a ``model_signatures`` item from ``private_key`` (a client-side helper)."""
    public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(message(origin, record_digest(record)))
    return {**unsigned(record), FIELD: [{"alg": ALG, "kid": key_id(public), "sig": b64(signature)}]}


def verify(public_key: bytes, origin: str, digest: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the key's signature over ``digest`` for the log ``origin``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message(origin, digest))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_stored(stored: dict, public_key: bytes, origin: str) -> str:
    """Check one signature as the entry's document keeps it (``{alg, kid, digest, sig}``) against the
    registered public key; "" when it verifies, else the reason."""
    if not isinstance(stored, dict) or stored.get("alg") != ALG:
        return "not an ed25519 model signature"
    if stored.get("kid") != key_id(public_key):
        return "the signature names another key"
    try:
        digest = decode_b64(stored.get("digest"), 32, "digest")
        signature = decode_b64(stored.get("sig"), SIGNATURE_SIZE, "signature")
    except SignatureError as exc:
        return str(exc)
    return "" if verify(public_key, origin, digest, signature) else "the signature does not verify"
