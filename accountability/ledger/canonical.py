"""Canonical JSON (RFC 8785, JCS) for ledger payloads, under stricter rules than JCS itself: no floats
(use decimal strings), integers within ±(2^53 - 1), ASCII keys, strings normalised to NFC and free of
lone surrogates. Within that subset, sorted compact ``json.dumps`` produces exactly the JCS bytes (the
key order is the same for ASCII keys, integers and strings serialise identically), and it is five
times faster than the ``rfc8785`` reference implementation. With ICDEV_LEDGER_CHECK_JCS on (the test
settings) every payload is also produced by ``rfc8785`` and compared, so the whole suite cross-checks
the two. The bytes are produced once, stored, and verified by hashing them, never by re-serialising."""

from __future__ import annotations

import json
import unicodedata

import rfc8785
from django.conf import settings

from accountability.exceptions import ValidationFailed

from .settings_cache import SettingCache

MAX_INT = 2**53 - 1  # I-JSON: integers JavaScript represents exactly
MAX_DEPTH = 32


def normalise(value, path: str = "$", errors: dict | None = None, depth: int = 0):
    """Return ``value`` with strings in NFC; collect rule violations in ``errors`` by JSON path."""
    errors = {} if errors is None else errors
    if depth > MAX_DEPTH:
        errors[path] = "Nested too deeply."
        return None
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not value.isascii():
            value = unicodedata.normalize("NFC", value)
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors[path] = "Strings must be valid Unicode (no lone surrogates)."
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            errors[path] = "Integers are limited to ±(2^53 - 1); send larger numbers as strings."
        return value
    if isinstance(value, float):
        errors[path] = "Floats are not allowed (their JSON form is ambiguous); send a decimal string."
        return None
    if isinstance(value, list | tuple):
        return [normalise(v, f"{path}[{i}]", errors, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii() or not key:
                errors[f"{path}.{key}"] = "Keys are non-empty ASCII strings."
                continue
            out[key] = normalise(item, f"{path}.{key}", errors, depth + 1)
        return out
    errors[path] = f"{type(value).__name__} is not a JSON value."
    return None


class _Refused(Exception):
    """Raised by the fast walk at the first value it does not accept; ``normalise`` then names them all."""


def _clean(value, depth: int = 0):
    """``normalise`` for values that follow the rules, without building a JSON path per value (that
    was most of the cost of an append's canonicalisation); raises _Refused on anything else, and
    may refuse more than ``normalise`` would (it then decides). Containers check their string
    members inline: a function call per string was half of what is left."""
    kind = type(value)
    if kind is dict:
        return _clean_dict(value, depth)
    if kind is list or kind is tuple:
        return _clean_list(value, depth)
    if depth > MAX_DEPTH:
        raise _Refused
    if kind is str:
        return value if value.isascii() else _nfc(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        if -MAX_INT <= value <= MAX_INT:
            return value
        raise _Refused
    if isinstance(value, str):  # str subclasses, e.g. TextChoices members
        return value if value.isascii() else _nfc(value)
    raise _Refused  # subclasses of int, dict or list and everything else: the full walk decides


def _clean_dict(value: dict, depth: int) -> dict:
    if depth >= MAX_DEPTH:  # members would sit deeper than MAX_DEPTH (an empty one is left to normalise)
        raise _Refused
    out = {}
    for key, item in value.items():
        if type(key) is not str or not key or not key.isascii():
            raise _Refused
        if type(item) is str:
            out[key] = item if item.isascii() else _nfc(item)
        else:
            out[key] = _clean(item, depth + 1)
    return out


def _clean_list(value: list | tuple, depth: int) -> list:
    if depth >= MAX_DEPTH:
        raise _Refused
    return [
        (item if item.isascii() else _nfc(item)) if type(item) is str else _clean(item, depth + 1) for item in value
    ]


def _nfc(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused from None
    return value


def _plain(value, depth: int = 0) -> bool:
    """Whether ``value`` holds only what the fast walk accepts, ignoring what non-ASCII text needs:
    JSON containers (dicts with non-empty string keys, lists, tuples), strings, None, booleans and
    safe integers, nested no deeper than the fast walk allows. Checks types only and copies
    nothing; ``canonical_bytes`` checks for non-ASCII text on the encoded result instead."""
    kind = type(value)
    if kind is dict:
        if depth >= MAX_DEPTH:
            return False
        for key, item in value.items():
            if type(key) is not str or not key:
                return False
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        if depth >= MAX_DEPTH:
            return False
        for item in value:  # noqa: SIM110 - all() over a generator costs more than the loop
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    if kind is str or value is None or kind is bool:
        return True
    return kind is int and -MAX_INT <= value <= MAX_INT


# Built once: ``json.dumps`` with these options builds an encoder per call. No circular check: the
# walks above refuse anything nested deeper than MAX_DEPTH, so no cycle reaches the encoder.
_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
).encode


def canonical_bytes(value, field: str = "payload") -> bytes:
    """The JCS bytes of ``value`` after the ledger's rules; ValidationFailed names every offending path."""
    if _plain(value):
        text = _encode(value)
        # ASCII output means every key and string was ASCII, which NFC leaves as it is: the fast
        # walk would have returned an equal value (tuples become lists, which encode alike).
        if text.isascii():
            return _checked(text.encode(), value, field)
    try:
        clean = _clean(value)
    except _Refused:
        errors: dict[str, str] = {}
        clean = normalise(value, "$", errors)
        if errors:
            raise ValidationFailed({f"{field}{path[1:]}": msg for path, msg in errors.items()}) from None
    return _checked(_encode(clean).encode(), clean, field)


# Unset (production), every read went through LazySettings' missing-attribute path: 1.7 µs an append.
_check_jcs = SettingCache(("ICDEV_LEDGER_CHECK_JCS",), lambda: bool(getattr(settings, "ICDEV_LEDGER_CHECK_JCS", False)))


def _checked(data: bytes, value, field: str) -> bytes:
    """With ICDEV_LEDGER_CHECK_JCS on (the test settings), compare ``data`` with ``rfc8785``'s bytes
    for ``value`` (which encodes tuples as arrays too)."""
    if _check_jcs() and data != rfc8785.dumps(value):
        raise AssertionError(f"canonical bytes differ from rfc8785 for {field}")
    return data
