"""icdev.sqlite3: Django's SQLite backend with BEGIN and COMMIT sent to the driver directly. Each case
runs on both paths (direct, and Django's own, taken when the query log is on) and must behave alike."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import OperationalError
from django.db.transaction import TransactionManagementError

from icdev.sqlite3.base import DatabaseWrapper


@pytest.fixture(params=[False, True], ids=["direct", "django-path"])
def wrapper(request, tmp_path, django_db_blocker):
    db = DatabaseWrapper(
        {
            "ENGINE": "icdev.sqlite3",
            "NAME": str(tmp_path / "backend.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias="backend-test",
    )
    db.force_debug_cursor = request.param  # the query log on: Django's own path runs
    with django_db_blocker.unblock():  # a file database of the test's own, not the test database
        db.ensure_connection()
        db.connection.execute("CREATE TABLE t (v INTEGER)")
        yield db
        db.close()


def _begin(db):
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(db, *, commit=True):
    db.commit() if commit else db.rollback()
    db.set_autocommit(True)


def test_begin_takes_the_write_lock_and_commit_makes_the_row_visible(wrapper, tmp_path):
    other = sqlite3.connect(tmp_path / "backend.sqlite3", timeout=0, isolation_level=None)
    _begin(wrapper)
    assert wrapper.connection.in_transaction
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")  # IMMEDIATE: the writer holds the lock from BEGIN on
    wrapper.connection.execute("INSERT INTO t VALUES (1)")
    assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)
    _end(wrapper)
    assert not wrapper.connection.in_transaction
    assert other.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_rollback_discards_the_row(wrapper):
    _begin(wrapper)
    wrapper.connection.execute("INSERT INTO t VALUES (1)")
    _end(wrapper, commit=False)
    assert wrapper.connection.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_driver_errors_are_djangos_on_both_paths(wrapper):
    wrapper.connection.execute("BEGIN")
    with pytest.raises(OperationalError, match="cannot start a transaction within a transaction"):
        wrapper._start_transaction_under_autocommit()
    wrapper.connection.execute("ROLLBACK")


def test_a_broken_transaction_refuses_to_begin_on_both_paths(wrapper):
    wrapper.needs_rollback = True
    with pytest.raises(TransactionManagementError):
        wrapper._start_transaction_under_autocommit()
    assert not wrapper.connection.in_transaction


def test_query_log_and_execute_wrappers_still_see_begin_and_commit(wrapper):
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with wrapper.execute_wrapper(spy):
        _begin(wrapper)
    _end(wrapper)
    assert seen == ["BEGIN IMMEDIATE"]
    logged = [q["sql"] for q in wrapper.queries]
    assert logged == (["BEGIN IMMEDIATE", "COMMIT"] if wrapper.force_debug_cursor else [])
