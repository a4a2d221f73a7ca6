"""Building entries: what ``build`` hands to the store, and parties read without changing the input."""

from __future__ import annotations

import datetime as dt
import json

from accountability.ledger.build import Errors, build, party
from accountability.ledger.keys import pii_token

MODEL = {"model_id": "m1", "provider": "p", "model_version": "1"}


def _action(**extra):
    return {
        "entry_type": "action",
        "actor": MODEL,
        "action": {"type": "eligibility.score", "description": "d", "rationale": "r"},
        "accountability": {
            "human_oversight": "audit",
            "reversibility": "reversible",
            "responsibility": {"oversight": {"kind": "user", "id": "u"}},
        },
        "entry_id": "LED-01M82XX1QD0XAAPR5J02EPRCHS",
        **extra,
    }


def test_prepared_commits_to_the_document_with_its_time_and_expiry():
    occurred = dt.datetime(2026, 11, 20, 12, 30, 1, 250, tzinfo=dt.UTC)
    built = build(**_action(occurred_at=occurred))
    assert built.occurred_at == occurred
    assert built.expires_at == occurred + dt.timedelta(days=90)
    assert not [k for k in built.document if k.startswith("_")]
    prepared = built.prepared()
    assert (prepared.occurred_at, prepared.expires_at) == (occurred, occurred + dt.timedelta(days=90))
    assert prepared.actor_ref == "model:m1"
    assert json.loads(prepared.payload) == json.loads(json.dumps(built.document))
    assert json.loads(prepared.payload)["timestamp"] == "2026-11-20T12:30:01.000250Z"


def test_a_decision_expires_a_year_on_and_governance_never():
    occurred = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    owner = {"kind": "user", "id": "u"}
    decision = build(
        **_action(
            entry_type="decision",
            occurred_at=occurred,
            accountability={
                "human_oversight": "audit",
                "reversibility": "reversible",
                "responsibility": {"oversight": owner, "approver": owner},
            },
        )
    )
    assert decision.expires_at == dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    governance = build(
        **_action(entry_type="governance", actor={"kind": "user", "id": "u"}, occurred_at=occurred, accountability={})
    )
    assert governance.expires_at is None
    assert governance.prepared().expires_at is None


class _Mapping(dict):
    """A dict subclass, read through a copy as before."""


def test_party_leaves_its_input_unchanged_and_reads_subclasses_alike():
    value = dict(MODEL)
    assert party(value, "actor", Errors()) == {"kind": "model", "id": "m1", "provider": "p", "model_version": "1"}
    assert value == MODEL
    assert party(_Mapping(MODEL), "actor", Errors()) == party(MODEL, "actor", Errors())
    errors = Errors()
    assert party({"kind": "user", "id": "Alice", "name": "Alice A", "x": 1}, "p", errors) == {
        "kind": "user",
        "id": pii_token("Alice"),
    }
    assert errors == {"p": ["Unknown fields: x."]}
