"""One round trip per audit on PostgreSQL: the batched queries, prepared once per database session, give
what the same queries give one by one, for any project, and a session that lost its statements recovers."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from assessors import prepared, sqlcache
from assessors import services as svc
from tests.factories import ProjectFactory

from .helpers import SYSTEM
from .test_audit import populate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clock")]


@pytest.fixture(autouse=True)
def fresh_session():
    """Each test starts from a session holding none of our statements: earlier tests on this connection
    may have brought it near the per-session limit, which would make the first batches drop them."""
    with connection.cursor() as cursor:
        cursor.execute(prepared._DEALLOCATE_OURS)
        prepared._sessions.pop(cursor.connection, None)


def audit(project) -> tuple[dict, list[list[str]]]:
    """The report of a one-project audit, and the statements of each query it sent through prepared
    statements: the shared batch first, then the samples of the rows behind failures."""
    with CaptureQueriesContext(connection) as ctx:
        report = svc.audit_evaluate(actor=SYSTEM, project=project)
    batches = [q["sql"].split(";\n") for q in ctx.captured_queries if "EXECUTE icdev_q" in q["sql"]]
    return report.as_dict(), batches


def verbs(statements: list[str]) -> list[str]:
    return sorted({s.split(" ", 1)[0] for s in statements})


def executes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("EXECUTE ")]


def test_queries_are_prepared_once_per_session_and_read_alike_for_every_project(monkeypatch):
    busy, quiet = ProjectFactory(), ProjectFactory()
    populate(busy, 2)
    populate(quiet, 1)
    first, [prepared_batch, *first_samples] = audit(busy)
    again, [executed, *samples] = audit(busy)
    other, [other_batch, *_] = audit(quiet)
    assert verbs(prepared_batch) == ["EXECUTE", "PREPARE"]
    assert sum(s.startswith("PREPARE ") for s in prepared_batch) == len(executed)
    assert verbs(executed) == verbs(other_batch) == ["EXECUTE"]
    assert len(other_batch) == len(executed)
    assert [verbs(s) for s in first_samples] == [["EXECUTE", "PREPARE"]] * len(samples)
    assert samples == [executes(s) for s in first_samples]
    assert again == first
    # Query by query, as on SQLite: the same reports.
    monkeypatch.setattr(sqlcache, "_batchable", lambda aliases: False)
    assert audit(busy) == (first, [])
    assert audit(quiet) == (other, [])


def test_a_session_that_lost_its_statements_prepares_them_again():
    project = ProjectFactory()
    populate(project, 1)
    first, _ = audit(project)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a connection pool's reset does
    again, [failed, retried, *samples] = audit(project)
    assert verbs(failed) == ["EXECUTE"]
    assert sum(s.startswith("PREPARE ") for s in retried) == len(failed)
    assert again == first
    # From then on the new statements are only executed.
    assert audit(project) == (first, [executes(retried), *map(executes, samples)])


def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler(settings):
    project = ProjectFactory()
    populate(project, 1)
    prepared_report, batches = audit(project)
    assert batches  # prepared by default
    settings.ICDEV_AUDIT_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as ctx:
        report = svc.audit_evaluate(actor=SYSTEM, project=project).as_dict()
    sent = [q["sql"] for q in ctx.captured_queries]
    assert report == prepared_report
    assert [q for q in sent if "PREPARE " in q or "EXECUTE " in q] == []


def test_an_audit_in_a_transaction_survives_a_session_that_lost_its_statements():
    # psycopg answers any ROLLBACK (a savepoint's too) with DEALLOCATE ALL once it has prepared statements
    # of its own (the ledger's); an audit inside the caller's transaction must not fail on that.
    project = ProjectFactory()
    populate(project, 1)
    first, _ = audit(project)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        again, [failed, retried, *_samples] = audit(project)
        assert verbs(failed) == ["EXECUTE"]
        assert sum(s.startswith("PREPARE ") for s in retried) == len(failed)
        assert again == first


def test_a_full_session_drops_its_statements_even_when_some_are_already_gone(monkeypatch):
    project = ProjectFactory()
    populate(project, 1)
    first, _ = audit(project)
    monkeypatch.setattr(prepared, "_MAX_PER_SESSION", 0)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # gone on the server, still listed for the session
    again, batches = audit(project)
    # Every batch finds the session full: it drops whichever of ours exist, without failing on the others.
    assert [b[0].startswith("DO $$") for b in batches] == [True] * len(batches)
    assert again == first
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'icdev%%'")
        (left,) = cursor.fetchone()
    assert left == sum(s.startswith("PREPARE ") for s in batches[-1])  # only the last batch's remain
