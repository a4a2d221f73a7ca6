"""Ledger test helpers: a scope grant for the demo model, valid AI entries, integration, and a
"database administrator" who can edit ledger tables behind the application's back."""

from __future__ import annotations

import contextlib
import copy
import threading

import pytest
from django.db import close_old_connections, connection, connections

from accountability.actors import SystemActor
from accountability.ledger import tiles
from accountability.ledger.services.grants import scope_grant_create
from accountability.ledger.services.integration import integrate_pending
from accountability.ledger.store import integrate_batch

SYSTEM = SystemActor("cli:test")
MODEL = {"model_id": "claude-opus", "provider": "anthropic", "model_version": "4.1", "session_id": "s-1"}

DECISION = {
    "entry_type": "decision",
    "performer": MODEL,
    "action": {
        "type": "eligibility.prescreen",
        "description": "Flagged application APP-1 for manual review",
        "inputs": ["income fields"],
        "outputs": ["flag"],
        "rationale": "Income mismatch above threshold.",
        "factors": ["mismatch 22 %"],
        "alternatives": ["approve automatically"],
    },
    "context": {"task_id": "TASK-1", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
    "accountability": {
        "human_oversight": "audit",
        "reversibility": "reversible",
        "responsibility": {"oversight": {"kind": "user", "id": "staff"}},
    },
}


def decision(**changes) -> dict:
    """A valid decision for ``ledger_entry_append``; ``changes`` replace top-level keys."""
    data = copy.deepcopy(DECISION)
    data.update(changes)
    return data


def action_entry(n: int = 0, **changes) -> dict:
    """A valid Action for ``append_entry`` (the low-level writer)."""
    data = {
        "entry_type": "action",
        "actor": MODEL,
        "action": {"type": "eligibility.score", "description": f"Scored application {n}", "rationale": "routine"},
        "context": {"task_id": f"TASK-{n % 7}"},
        "accountability": {
            "human_oversight": "audit",
            "reversibility": "reversible",
            "responsibility": {"oversight": {"kind": "user", "id": "staff"}},
        },
        "project_key": "proj-123",
    }
    data.update(changes)
    return data


@pytest.fixture
def grant(project):
    """claude-opus may perform eligibility.* and code.review in ``project``."""
    return scope_grant_create(
        actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*", "code.review"]
    )


@pytest.fixture
def integrate():
    """Integrate queued entries (PostgreSQL) and make sure a checkpoint covers the log."""
    return integrate_pending


@contextlib.contextmanager
def as_dba():
    """Edit ledger tables directly, as an attacker with database administrator rights would: on
    PostgreSQL the append-only triggers are bypassed for the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
    try:
        yield connection.cursor()
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = origin")
        tiles.clear_cache()


def stored_rows() -> list[tuple]:
    """Every stored entry as the verifier takes it: (seq, leaf, hash, payload, salt), read through the ORM."""
    from accountability.ledger.models import LedgerEntry
    from accountability.ledger.services.verification import COLUMNS

    return [
        (s, bytes(leaf), bytes(h), None if p is None else bytes(p), None if t is None else bytes(t))
        for s, leaf, h, p, t in LedgerEntry.objects.order_by("seq").values_list(*COLUMNS)
    ]


def stored_checkpoints() -> dict[int, list[str]]:
    """Every stored checkpoint note by tree size, as the verifier takes them."""
    from accountability.ledger.models import Checkpoint

    checkpoints: dict[int, list[str]] = {}
    for size, note in Checkpoint.objects.values_list("tree_size", "note"):
        checkpoints.setdefault(size, []).append(note)
    return checkpoints


def write_concurrently(writers: int, appends: int, *, on_exit=None) -> list[str]:
    """``writers`` threads each append ``appends`` actions (``action_entry``) while an integrator
    thread sequences the queue; the ids appended, or the first error any thread raised.
    ``on_exit`` runs in each writer thread before its connections close."""
    from accountability.ledger.append import append_entry

    errors: list[BaseException] = []
    ids: list[str] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()

    def writer(w: int) -> None:
        close_old_connections()
        try:
            for n in range(appends):
                result = append_entry(**action_entry(w * appends + n))
                with lock:
                    ids.append(result.entry_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            if on_exit is not None:
                on_exit()
            connections.close_all()

    def integrator() -> None:
        close_old_connections()
        try:
            while writing.is_set():
                integrate_batch(500)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    sequencer = threading.Thread(target=integrator)
    sequencer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writing.clear()
    sequencer.join()
    if errors:
        raise errors[0]
    return ids
