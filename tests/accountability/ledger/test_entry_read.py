"""``entry_get`` reads an entry by id through one prepared statement and ``Model.from_db``, not the
ORM: the instance it returns must hold exactly what the ORM would load, value and type, on SQLite
(whose datetimes need Django's converters) and on PostgreSQL, for integrated and pending entries."""

from __future__ import annotations

import datetime as dt

import pytest

from accountability.exceptions import NotFound
from accountability.ledger.append import append_entry
from accountability.ledger.build import build
from accountability.ledger.models import LedgerEntry, PendingEntry
from accountability.ledger.selectors import entry_get
from accountability.ledger.store import ENTRY_COLUMNS

from .conftest import SYSTEM, action_entry

pytestmark = pytest.mark.django_db


def _same_as_the_orm(model, entry_id: str) -> object:
    """Assert that every field ``entry_get`` loaded equals the ORM's value, with the same type."""
    read = entry_get(SYSTEM, entry_id)
    orm = model.objects.get(entry_id=entry_id)
    assert type(read) is model
    assert read._state.adding is False
    for field in model._meta.concrete_fields:
        ours, theirs = getattr(read, field.attname), getattr(orm, field.attname)
        assert (ours, type(ours)) == (theirs, type(theirs)), field.attname
    return read


def test_an_integrated_entry_reads_as_the_orm_reads_it(project, grant, integrate):
    context = {"task_id": "TASK-1", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
    result = append_entry(**action_entry(1, project_key=project.key, context=context))
    integrate()
    read = _same_as_the_orm(LedgerEntry, result.entry_id)
    assert read.seq == LedgerEntry.objects.get(entry_id=result.entry_id).seq > 0
    assert isinstance(read.occurred_at, dt.datetime)
    assert read.occurred_at.tzinfo is not None
    assert read.expires_at is not None
    assert read.redacted_at is None
    assert read.trace_id == context["trace_id"]
    assert bytes(read.payload).startswith(b"{")


def test_a_pending_entry_reads_as_the_orm_reads_it(project, grant):
    prepared = build(**action_entry(2, project_key=project.key)).prepared()
    PendingEntry.objects.create(**{column: getattr(prepared, column) for column in ENTRY_COLUMNS})
    read = _same_as_the_orm(PendingEntry, prepared.entry_id)
    assert read.entry_id == prepared.entry_id
    assert read.occurred_at == prepared.occurred_at


def test_an_unknown_or_unreadable_entry_is_not_found(project, grant, integrate, outsider, auditor_user):
    result = append_entry(**action_entry(3, project_key=project.key))
    integrate()
    with pytest.raises(NotFound, match="No ledger entry 'LED-01ARZ3NDEKTSV4RRFFQ69G5FAV'"):
        entry_get(SYSTEM, "LED-01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert entry_get(auditor_user, result.entry_id).entry_id == result.entry_id
    with pytest.raises(NotFound, match=f"No ledger entry '{result.entry_id}'"):
        entry_get(outsider, result.entry_id)
