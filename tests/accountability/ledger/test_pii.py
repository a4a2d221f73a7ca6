"""PII minimisation: the walk with its inline fast paths gives what the plain recursive definition gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.ledger.keys import is_token, pii_token
from accountability.ledger.pii import EMAIL_RE, is_person_key, minimise, tokenise


def _reference(value, key=""):
    """The rule as the module docstring states it, one call per value (the walk before its shortcuts)."""
    if isinstance(value, dict):
        return {k: _reference(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reference(v, key) for v in value]
    if isinstance(value, str):
        if key and value and is_person_key(key):
            return tokenise(value)
        return EMAIL_RE.sub(lambda m: tokenise(m.group(0)), value)
    return value


keys = st.sampled_from(["email", "owner_email", "contact_phone", "username", "description", "inputs", "id", ""])
texts = st.sampled_from(["", "plain", "alice@agency.gov", "write to Bob@Example.org today", "a@b", "@", "x" * 5])
scalars = texts | st.booleans() | st.none() | st.integers(-5, 5)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys | st.text(max_size=3), values, max_size=6), keys)
def test_minimise_equals_the_plain_recursive_rule(document, key):
    assert minimise(document) == _reference(document)
    assert minimise(document, key) == _reference(document, key)


def test_person_values_and_addresses_become_tokens():
    doc = {
        "owner_email": "Alice@Agency.gov",
        "notes": ["mail alice@agency.gov", "no address"],
        "flags": [True, None],
        "nested": {"username": "alice", "ok": False},
    }
    token = pii_token("alice@agency.gov")
    assert minimise(doc) == {
        "owner_email": token,
        "notes": [f"mail {token}", "no address"],
        "flags": [True, None],
        "nested": {"username": pii_token("alice"), "ok": False},
    }
    assert is_token(token)


def test_changed_person_fields_apply_at_once(settings):
    """The configured person keys are looked up once, and again whenever the setting changes."""
    doc = {"nickname": "Ally", "note": "plain"}
    assert minimise(doc) == doc
    settings.ICDEV_LEDGER_PII_FIELDS = ["nickname"]
    assert minimise(doc) == {"nickname": pii_token("Ally"), "note": "plain"}
    assert is_person_key("nickname")
    settings.ICDEV_LEDGER_PII_FIELDS = []
    assert minimise(doc) == doc
    assert not is_person_key("nickname")


def test_an_entry_field_configured_as_a_person_field_is_tokenised(settings):
    """Entry fields skip the person-key tests only while no setting names them."""
    doc = {"description": "Ally", "inputs": ["Ally"], "type": "x"}
    assert minimise(doc) == doc
    settings.ICDEV_LEDGER_PII_FIELDS = ["description", "inputs"]
    assert minimise(doc) == {"description": pii_token("Ally"), "inputs": [pii_token("Ally")], "type": "x"}
    settings.ICDEV_LEDGER_PII_FIELDS = []
    assert minimise(doc) == doc


def test_tokens_follow_changed_keys_and_equal_a_fresh_hmac(settings):
    """Tokens use the keyed HMAC state of the live key; a changed key list applies at once."""
    import base64
    import hashlib
    import hmac

    secret = b"s" * 32
    settings.ICDEV_LEDGER_PII_KEYS = [f"k9:{base64.b64encode(secret).decode()}"]
    mac = hmac.new(secret, b"alice@agency.gov", hashlib.sha256).digest()
    expected = f"hmac:k9:{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    assert pii_token(" Alice@Agency.GOV ") == expected
    assert pii_token("alice@agency.gov") == expected  # the keyed state is copied, never consumed
    settings.ICDEV_LEDGER_PII_KEYS = []
    assert pii_token("alice@agency.gov").startswith("hmac:dev:")
    assert not is_token(expected)  # k9 is no longer a live key
