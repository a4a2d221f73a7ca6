"""Canonical bytes: RFC 8785 with the ledger's stricter rules, stored once and never re-serialised."""

from __future__ import annotations

import base64
import datetime as dt
import json
from types import SimpleNamespace

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.exceptions import ValidationFailed
from accountability.ledger import keys, store
from accountability.ledger.canonical import canonical_bytes
from accountability.ledger.offline.formats import LEAF_KEYS, encode_leaf, format_time
from accountability.ledger.schema import EntryType

ascii_keys = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=8)
safe_ints = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
# Any Unicode text except lone surrogates (not encodable as UTF-8, so not JSON text at all).
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ascii_keys, inner, max_size=4),
    max_leaves=20,
)


def test_known_bytes():
    value = {"b": [True, None, "x\u00e9\n"], "a": 1, "\u0041": {"z": -0, "y": "2"}}
    assert canonical_bytes(value) == b'{"A":{"y":"2","z":0},"a":1,"b":[true,null,"x\xc3\xa9\\n"]}'


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"score": 0.5}, "payload.score"),
        ({"a": [1, {"b": 1.0}]}, "payload.a[1].b"),
        ({"nan": float("nan")}, "payload.nan"),
        ({"big": 2**53}, "payload.big"),
        ({"clé": 1}, "payload.clé"),
        ({"when": object()}, "payload.when"),
    ],
)
def test_floats_huge_integers_and_non_ascii_keys_are_rejected(value, path):
    with pytest.raises(ValidationFailed) as exc:
        canonical_bytes(value)
    assert path in exc.value.errors


def test_strings_are_normalised_to_nfc():
    assert canonical_bytes({"s": "e\u0301"}) == canonical_bytes({"s": "\u00e9"}) == '{"s":"é"}'.encode()


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ascii_keys, json_values, max_size=6))
def test_bytes_are_stable_and_equal_to_rfc8785(value):
    first = canonical_bytes(value)
    assert first == canonical_bytes(dict(reversed(list(value.items()))))
    import unicodedata

    def nfc(v):
        if isinstance(v, str):
            return unicodedata.normalize("NFC", v)
        if isinstance(v, list):
            return [nfc(x) for x in v]
        if isinstance(v, dict):
            return {k: nfc(x) for k, x in v.items()}
        return v

    assert first == rfc8785.dumps(nfc(value))


leaf_strings = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(dict.fromkeys(LEAF_KEYS - {"seq", "v", "links", "actor", "expires_at"}, leaf_strings)),
    safe_ints,
    st.lists(st.fixed_dictionaries({"rel": leaf_strings, "seq": safe_ints, "hash": leaf_strings}), max_size=2),
    st.dictionaries(ascii_keys, leaf_strings, max_size=3),
    st.none() | leaf_strings,
)
def test_the_integrators_fast_leaf_encoding_is_exactly_rfc8785(fields, seq, links, actor, expires):
    """encode_leaf uses sorted compact json.dumps for speed; for leaf values it must equal JCS."""
    leaf = {**fields, "seq": seq, "v": 1, "links": links, "actor": actor, "expires_at": expires}
    assert encode_leaf(leaf) == rfc8785.dumps(leaf)


def test_leaves_refuse_floats_and_unknown_fields():
    base = dict.fromkeys(LEAF_KEYS, "")
    with pytest.raises(ValueError, match="no floats"):
        encode_leaf({**base, "seq": 1.5})
    with pytest.raises(ValueError, match="keys differ"):
        encode_leaf({**base, "extra": 1})


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ascii_keys, json_values, max_size=6))
def test_fast_walk_equals_the_full_walk(value):
    from accountability.ledger.canonical import _clean, normalise

    errors: dict = {}
    assert _clean(value) == normalise(value, "$", errors)
    assert not errors


@pytest.mark.parametrize(
    "value",
    [{"a": 2**53}, {"a": 1.5}, {"": 1}, {1: 2}, {"é": 1}, {"a": "\ud800"}, {"a": object()}, {"a": True}],
)
def test_fast_walk_refuses_what_the_full_walk_rejects(value):
    from accountability.ledger.canonical import _clean, _Refused, normalise

    errors: dict = {}
    clean = normalise(value, "$", errors)
    if errors:
        with pytest.raises(_Refused):
            _clean(value)
    else:
        assert _clean(value) == clean


def test_deep_nesting_is_refused_by_both_walks():
    value: list = []
    for _ in range(40):
        value = [value]
    with pytest.raises(ValidationFailed):
        canonical_bytes({"deep": value})


class _Label(str):
    """A str subclass, as TextChoices members are."""


def _reference_bytes(value) -> bytes:
    """canonical_bytes as it was before the type-only fast path: the full walk, then sorted compact JSON."""
    import json

    from accountability.ledger.canonical import normalise

    errors: dict = {}
    clean = normalise(value, "$", errors)
    if errors:
        raise ValidationFailed({f"payload{path[1:]}": msg for path, msg in errors.items()})
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _assert_same_outcome(value) -> None:
    """canonical_bytes gives the reference's bytes, or refuses with the reference's messages."""
    try:
        expected = _reference_bytes(value)
    except ValidationFailed as exc:
        errors = exc.errors
    else:
        assert canonical_bytes(value) == expected
        return
    with pytest.raises(ValidationFailed) as got:
        canonical_bytes(value)
    assert got.value.errors == errors


# Everything a caller might hand over: what the rules accept and what they refuse, in any mix.
any_keys = ascii_keys | st.text(max_size=4) | st.integers(-3, 3) | st.just("")
any_scalars = (
    st.none()
    | st.booleans()
    | safe_ints
    | st.integers()
    | st.floats(allow_nan=True)
    | texts
    | st.text(alphabet="ab\u00e9e\u0301\ud800", max_size=4)
    | texts.map(_Label)
)
any_values = st.recursive(
    any_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(any_keys, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(any_keys, any_values, max_size=6) | any_values)
def test_canonical_bytes_equal_the_full_walks_or_fail_alike(value):
    """The type-only check plus the ASCII test on the output must give the full walk's bytes, and
    refuse exactly what it refuses, with the same messages."""
    _assert_same_outcome(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"t": ("a", 1, None)}, b'{"t":["a",1,null]}'),  # tuples are arrays
        ({"s": _Label("x")}, b'{"s":"x"}'),  # str subclasses go through the full walk
        ({"s": "caf\u00e9", "k": "e\u0301"}, '{"k":"é","s":"café"}'.encode()),  # non-ASCII: NFC applies
        ({"b": True, "n": -(2**53 - 1)}, b'{"b":true,"n":-9007199254740991}'),
    ],
)
def test_canonical_bytes_of_known_values(value, expected):
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize("wrap", [lambda v: [v], lambda v: {"k": v}, lambda v: (v,)])
@pytest.mark.parametrize("inner", ["x", 1, [], {}, ["x"], {"k": "x"}])
def test_nesting_around_the_depth_limit_is_handled_as_the_full_walk_does(wrap, inner):
    from accountability.ledger.canonical import MAX_DEPTH

    for levels in range(MAX_DEPTH - 2, MAX_DEPTH + 2):
        value = inner
        for _ in range(levels):
            value = wrap(value)
        _assert_same_outcome({"v": value})


aware_times = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 1, 1), timezones=st.just(dt.UTC)
) | st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2100, 1, 1), timezones=st.timezones())
any_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.fixed_dictionaries(
        dict.fromkeys(["kind", "ident", "entry_id", "oversight", "project_key", "retention", "reversibility"], any_text)
    ),
    entry_type=st.sampled_from(list(EntryType)) | any_text,
    seq=st.integers(0, 2**53 - 1),
    times=st.tuples(aware_times, aware_times, st.none() | aware_times),
    digests=st.tuples(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32)),
    links=st.lists(
        st.fixed_dictionaries({"rel": any_text, "seq": st.integers(0, 2**53 - 1), "hash": any_text}), max_size=2
    ),
)
def test_the_sequencers_leaf_layout_is_the_leaf_encoding(texts, entry_type, seq, times, digests, links):
    """store._leaf fills a fixed layout instead of encoding a dict: for every value it must give
    encode_leaf's bytes for the same fields, which are RFC 8785's."""
    occurred, recorded, expires = times
    p = SimpleNamespace(
        actor_ref=f"{texts['kind'].replace(':', '')}:{texts['ident']}",
        entry_id=texts["entry_id"],
        entry_type=entry_type,
        project_key=texts["project_key"],
        occurred_at=occurred,
        retention=texts["retention"],
        expires_at=expires,
        payload_hash=digests[0],
        oversight=texts["oversight"],
        reversibility=texts["reversibility"],
    )
    leaf = {
        "v": 1,
        "log": keys.origin(),
        "seq": seq,
        "id": p.entry_id,
        "type": str(entry_type),
        "project": p.project_key,
        "occurred_at": format_time(occurred),
        "recorded_at": format_time(recorded),
        "retention": p.retention,
        "expires_at": format_time(expires) if expires else None,
        "prev": base64.b64encode(digests[1]).decode(),
        "payload_hash": base64.b64encode(digests[0]).decode(),
        "actor": {"kind": texts["kind"].replace(":", ""), "id": texts["ident"]},
        "oversight": p.oversight,
        "reversibility": p.reversibility,
        "links": links,
    }
    laid_out = store._leaf(p, seq=seq, prev=digests[1], recorded_at=recorded, links=links)
    assert laid_out == encode_leaf(leaf) == rfc8785.dumps(leaf)


def test_the_leaf_layout_escapes_the_origin_and_refuses_oversized_leaves(settings):
    settings.ICDEV_LEDGER_ORIGIN = 'odd "origin"\n/é'
    p = SimpleNamespace(
        actor_ref="model:m",
        entry_id="LED-1",
        entry_type="action",
        project_key="p",
        occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        retention="P90D",
        expires_at=None,
        payload_hash=bytes(32),
        oversight="",
        reversibility="",
    )
    leaf = store._leaf(p, seq=1, prev=bytes(32), recorded_at=p.occurred_at, links=[])
    assert b'"log":"odd \\"origin\\"\\n/\xc3\xa9"' in leaf
    assert json.loads(leaf)["log"] == 'odd "origin"\n/é'
    p.project_key = "x" * 70_000
    with pytest.raises(ValueError, match="at most 65535 bytes"):
        store._leaf(p, seq=1, prev=bytes(32), recorded_at=p.occurred_at, links=[])


def test_the_rfc8785_cross_check_follows_its_setting(settings, monkeypatch):
    """ICDEV_LEDGER_CHECK_JCS is read once, and again after it changes."""
    monkeypatch.setattr(rfc8785, "dumps", lambda value: b"different")
    settings.ICDEV_LEDGER_CHECK_JCS = False
    assert canonical_bytes({"a": 1}) == b'{"a":1}'
    settings.ICDEV_LEDGER_CHECK_JCS = True
    with pytest.raises(AssertionError, match="differ from rfc8785"):
        canonical_bytes({"a": 1})
