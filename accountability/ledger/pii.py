"""Data minimisation (seed 002): personal data goes into entries only as HMAC-SHA256 tokens with a key
id (``hmac:k1:…``), never as plain hashes, which anyone can reverse by enumerating e-mail addresses."""

from __future__ import annotations

import re

from django.conf import settings

from .keys import is_token, pii_token

EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Keys whose values identify a natural person; anything ending in _email or _phone counts too.
PERSON_KEYS = frozenset(
    {
        "email",
        "phone",
        "username",
        "full_name",
        "first_name",
        "last_name",
        "official_name",
        "contact_name",
        "responsible_official_name",
        "delegate_name",
        "appellant_name",
        "reporter_name",
        "person_name",
    }
)


def is_person_key(key: str) -> bool:
    """Whether a payload key names a person-identifying value."""
    extra = getattr(settings, "ICDEV_LEDGER_PII_FIELDS", ())
    return key in PERSON_KEYS or key in extra or key.endswith(("_email", "_phone"))


def tokenise(value: str) -> str:
    """A token for a personal identifier (tokens made under a live key pass through unchanged)."""
    value = str(value)
    return value if is_token(value) else pii_token(value)


def minimise(value, key: str = ""):
    """Replace personal data in a JSON-like value: person-identifying keys are tokenised whole, and
    e-mail addresses inside any other string are tokenised in place."""
    if isinstance(value, dict):
        return {k: minimise(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [minimise(v, key) for v in value]
    if isinstance(value, str):
        if key and is_person_key(key) and value:
            return tokenise(value)
        return EMAIL_RE.sub(lambda m: tokenise(m.group(0)), value) if "@" in value else value
    return value
