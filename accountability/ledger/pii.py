"""Data minimisation (seed 002): personal data goes into entries only as HMAC-SHA256 tokens with a key
id (``hmac:k1:…``), never as plain hashes, which anyone can reverse by enumerating e-mail addresses."""

from __future__ import annotations

import functools
import re

from django.conf import settings

from .keys import is_token, pii_token
from .settings_cache import SettingCache

EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Keys whose values identify a natural person; anything ending in _email or _phone counts too.
PERSON_SUFFIXES = ("_email", "_phone")
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
    return key in person_keys() or key.endswith(PERSON_SUFFIXES)


# The member names of an entry's action and context: known in advance to name no person (unless
# configured as person fields), which saves the two tests per member (about 1 µs an entry).
ENTRY_FIELDS = frozenset(
    {
        "type",
        "description",
        "inputs",
        "outputs",
        "rationale",
        "factors",
        "alternatives",
        "flagged",
        "task_id",
        "parent_entry",
        "related_models",
        "related_entries",
        "trace_id",
        "policy_refs",
    }
)


def _configured() -> tuple[frozenset[str], frozenset[str]]:
    """The person keys (PERSON_KEYS plus ICDEV_LEDGER_PII_FIELDS) and the entry fields not among them."""
    found = _person_keys(tuple(getattr(settings, "ICDEV_LEDGER_PII_FIELDS", ())))
    return found, frozenset(k for k in ENTRY_FIELDS if not (k in found or k.endswith(PERSON_SUFFIXES)))


# Looked up once rather than per call (a settings read, a tuple and an lru_cache probe: about 1 µs,
# twice an append).
_keys = SettingCache(("ICDEV_LEDGER_PII_FIELDS",), _configured)


def person_keys() -> frozenset[str]:
    """PERSON_KEYS plus the configured ICDEV_LEDGER_PII_FIELDS."""
    return _keys()[0]


@functools.lru_cache(maxsize=4)
def _person_keys(extra: tuple[str, ...]) -> frozenset[str]:
    """PERSON_KEYS plus the configured fields (keyed by the setting, so a changed setting applies)."""
    return PERSON_KEYS | frozenset(extra)


def tokenise(value: str) -> str:
    """A token for a personal identifier (tokens made under a live key pass through unchanged)."""
    value = str(value)
    return value if is_token(value) else pii_token(value)


def minimise(value, key: str = ""):
    """Replace personal data in a JSON-like value: person-identifying keys are tokenised whole, and
    e-mail addresses inside any other string are tokenised in place."""
    person, plain = _keys()
    return _minimise(value, key, person, plain)


def _minimise(value, key: str, person_keys: frozenset[str], plain_keys: frozenset[str] = frozenset()):
    """``minimise`` with the person keys looked up once per document rather than once per value.
    Members of a dict under a key that names no person are handled in the loop when they are
    strings without "@", lists, booleans or None (nearly every member of an entry), instead of by
    a call each; a call per member was most of the walk's cost. ``plain_keys`` are keys known to name
    no person."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in plain_keys or (type(k) is str and not (k in person_keys or k.endswith(PERSON_SUFFIXES))):
                kind = type(v)
                if kind is str and "@" not in v:
                    out[k] = v
                    continue
                if kind is list:  # as the list branch below does for a key that names no person
                    # An empty list skips the comprehension's setup (entries carry four or five).
                    out[k] = (
                        [x if type(x) is str and "@" not in x else _minimise(x, k, person_keys, plain_keys) for x in v]
                        if v
                        else []
                    )
                    continue
                if kind is bool or v is None:
                    out[k] = v
                    continue
            out[k] = _minimise(v, k, person_keys, plain_keys)
        return out
    if isinstance(value, list | tuple):
        plain = type(key) is str and not (key in person_keys or key.endswith(PERSON_SUFFIXES))
        return [
            v if plain and type(v) is str and "@" not in v else _minimise(v, key, person_keys, plain_keys)
            for v in value
        ]
    if isinstance(value, str):
        if key and value and (key in person_keys or key.endswith(PERSON_SUFFIXES)):
            return tokenise(value)
        return EMAIL_RE.sub(lambda m: tokenise(m.group(0)), value) if "@" in value else value
    return value
