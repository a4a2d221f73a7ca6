"""The group-committing intake (``ledger_intake``, PostgreSQL): writers' rows are stored in batches with
the same outcome as their own guarded statement, each writer hears back after the commit, and every
failure is either "not stored" (the writer stores it itself or takes the general path) or an error."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, connection, connections
from django.utils import timezone

from accountability.ledger import alone, intake
from accountability.ledger.append import append_entry
from accountability.ledger.build import build
from accountability.ledger.models import LedgerEntry, PendingEntry, ScopeGrant
from accountability.ledger.services.grants import scope_grant_create, scope_grant_revoke
from accountability.ledger.services.integration import integrate_pending
from accountability.ledger.services.verification import ledger_verify
from accountability.ledger.store import ENTRY_COLUMNS
from accountability.models import Project

from .conftest import SYSTEM, action_entry, write_concurrently


def on_postgres(test):
    """PostgreSQL only, committed for real: the intake stores through connections of its own."""
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True)(test))


REPO = Path(__file__).resolve().parents[3]
NOWHERE = str(REPO / "no-intake.sock")  # options are checked before anything listens


@pytest.fixture
def socket_path():
    """A short path: a Unix socket's name must fit in 108 bytes."""
    folder = tempfile.mkdtemp(prefix="icdev-intake-")
    yield os.path.join(folder, "intake.sock")
    intake.disconnect()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(folder, "intake.sock"))
    os.rmdir(folder)


class Running:
    """An intake serving in threads of this process, with its own database connections."""

    def __init__(self, path: str, committers: int = 1):
        self.intake = intake.Intake(path)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(committers,))
        self.thread.start()
        assert self.intake.ready.wait(10)

    def _serve(self, committers: int) -> None:
        try:
            self.intake.serve(self.stop, committers=committers)
        finally:
            connections.close_all()

    def close(self) -> intake.Totals:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.intake.totals


@pytest.fixture
def running(socket_path, settings):
    """An intake on ``socket_path``, which this process's appends are configured to use."""
    settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path
    alone.forget_predictions()
    server = Running(socket_path)
    yield server
    server.close()
    alone.forget_predictions()


@pytest.fixture
def granted():
    project = Project.objects.create(key="proj-123", name="Intake", organization="Test")
    return scope_grant_create(actor=SYSTEM, project=project, model_id="claude-opus", action_types=["eligibility.*"])


def _request(n: int, *, guard: bytes | None = b'[["eligibility.*"]]', occurred_at=None, **changes) -> list:
    """The fields of one request, as ``alone`` sends them for a model's action."""
    built = build(**action_entry(n, occurred_at=occurred_at, **changes))
    row = alone.row_values(built.prepared())
    model = None if built.actor.get("kind") != "model" else built.actor["id"].encode()
    return [model, guard if model else None, *row]


def _pending_ids() -> list[str]:
    return list(PendingEntry.objects.order_by("id").values_list("entry_id", flat=True))


# --- the wire format (no database) ---------------------------------------------------------------


def test_a_request_round_trips_and_malformed_ones_are_named():
    fields = [b"claude-opus", None, *[str(i).encode() for i in range(len(ENTRY_COLUMNS))]]
    frame = intake.encode_request(fields[0], fields[1], fields[2:])
    assert int.from_bytes(frame[:4], "little") == len(frame) - 4
    body = frame[4:]
    assert intake.decode_request(body) == fields
    with pytest.raises(ValueError, match="unsupported protocol version 09"):
        intake.decode_request(b"\x09" + body[1:])
    with pytest.raises(ValueError, match="field length outside the request"):
        intake.decode_request(body[:-1])
    with pytest.raises(ValueError, match="1 bytes after the last field"):
        intake.decode_request(body + b"x")
    with pytest.raises(ValueError, match="ends inside a field length"):
        intake.decode_request(body[:3])


def test_a_stale_socket_file_is_replaced_and_a_live_one_or_a_plain_file_refused(socket_path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(socket_path)
    stale.close()  # left behind, nobody listening
    listener = intake._listen(socket_path)
    try:
        assert oct(os.stat(socket_path).st_mode & 0o777) == "0o600"
        with pytest.raises(OSError, match="another ledger intake is listening"):
            intake._listen(socket_path)
    finally:
        listener.close()
        os.unlink(socket_path)
    Path(socket_path).write_text("not a socket")
    with pytest.raises(OSError, match="exists and is not a socket"):
        intake._listen(socket_path)


def test_the_command_refuses_bad_options(settings):
    settings.ICDEV_LEDGER_INTAKE_SOCKET = ""
    with pytest.raises(CommandError, match="No socket: pass --socket or set ICDEV_LEDGER_INTAKE_SOCKET"):
        call_command("ledger_intake")
    with pytest.raises(CommandError, match="--max-batch must be 1 to 128"):
        call_command("ledger_intake", socket=NOWHERE, max_batch=0)
    with pytest.raises(CommandError, match="--committers must be 1 to 8"):
        call_command("ledger_intake", socket=NOWHERE, committers=9)


@pytest.mark.django_db
def test_the_command_has_nothing_to_do_where_appends_are_inline():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite appends inline")
    with pytest.raises(CommandError, match="Appends are inline on this database"):
        call_command("ledger_intake", socket=NOWHERE)


# --- appends through the intake ------------------------------------------------------------------


@on_postgres
def test_an_append_is_stored_by_the_intake_exactly_as_by_its_own_statement(granted, running):
    first = append_entry(**action_entry(1))  # no prediction yet: a probe, then the guarded row
    second = append_entry(**action_entry(2))
    assert (first.violations, second.violations, first.seq) == ([], [], None)
    assert _pending_ids() == [granted_entry_id(), first.entry_id, second.entry_id]
    totals = running.intake.totals
    assert (totals.rows, totals.stored) == (3, 2)

    built = build(**action_entry(3))
    prepared = built.prepared()
    assert alone.append(built, prepared) is True
    stored = PendingEntry.objects.get(entry_id=prepared.entry_id)
    for column in ENTRY_COLUMNS:
        value = getattr(stored, column)
        assert (bytes(value) if isinstance(value, memoryview) else value) == getattr(prepared, column), column
    assert running.intake.totals.stored == 3


def granted_entry_id() -> str:
    """The Governance entry the grant wrote (appended inside the service's transaction, not here)."""
    return PendingEntry.objects.filter(entry_type="governance").values_list("entry_id", flat=True).get()


@on_postgres
def test_a_grant_revoked_between_appends_sends_the_next_one_to_the_general_path(granted, running):
    append_entry(**action_entry(1))
    scope_grant_revoke(actor=SYSTEM, grant=granted, reason="Pilot over")
    result = append_entry(**action_entry(2))
    assert len(result.violations) == 1
    violation = PendingEntry.objects.get(entry_id=result.violations[0])
    assert violation.entry_type == "violation"
    assert PendingEntry.objects.filter(entry_id=result.entry_id).count() == 1
    # The guarded row was refused by the intake (the live patterns came back empty): not stored there.
    assert running.intake.totals.stored == 1


@on_postgres
def test_a_record_that_needs_no_guard_goes_through_the_intake(running):
    Project.objects.create(key="proj-123", name="Intake", organization="Test")
    result = append_entry(**action_entry(1, actor={"kind": "system", "id": "test:runner"}))
    assert _pending_ids() == [result.entry_id]
    assert (running.intake.totals.rows, running.intake.totals.stored) == (1, 1)


@on_postgres
def test_a_batch_whose_grants_change_inside_its_time_span_stores_row_by_row(granted, running):
    now = timezone.now()
    ScopeGrant.objects.filter(pk=granted.pk).update(
        granted_at=now - dt.timedelta(minutes=10), expires_at=now - dt.timedelta(minutes=2)
    )
    before = _request(1, occurred_at=now - dt.timedelta(minutes=3))  # the grant is live
    after = _request(2, occurred_at=now - dt.timedelta(minutes=1))  # it has expired
    replies = running.intake.store_batch([before, after])
    assert replies == [intake.encode_reply(intake.STORED), intake.encode_reply(intake.NOT_STORED, b"[]")]
    assert _pending_ids()[-1:] == [before[2].decode()]
    # Both inside the grant's life: one statement stores both.
    both = [
        _request(3, occurred_at=now - dt.timedelta(minutes=5)),
        _request(4, occurred_at=now - dt.timedelta(minutes=4)),
    ]
    assert running.intake.store_batch(both) == [intake.encode_reply(intake.STORED)] * 2


@on_postgres
def test_a_probe_stores_nothing_and_returns_the_live_patterns(granted, running):
    probe = _request(1, guard=None)
    assert running.intake.store_batch([probe]) == [intake.encode_reply(intake.NOT_STORED, b'[["eligibility.*"]]')]
    assert PendingEntry.objects.filter(entry_type="action").count() == 0


@on_postgres
def test_a_row_the_database_refuses_fails_alone_and_the_rest_is_stored(granted, running):
    taken = _request(1)
    assert running.intake.store_batch([taken]) == [intake.encode_reply(intake.STORED)]
    fresh = _request(2)
    replies = running.intake.store_batch([fresh, taken])
    assert replies[0] == intake.encode_reply(intake.STORED)
    assert replies[1][:1] == bytes((intake.FAILED,))
    assert replies[1][5:10] == b"23505"
    assert PendingEntry.objects.filter(entry_type="action").count() == 2
    with pytest.raises(IntegrityError, match="SQLSTATE 23505"):
        intake.store(running.intake.path, taken[0], taken[1], taken[2:], 5)


# --- when the intake is missing, stops, misbehaves or refuses --------------------------------------


@on_postgres
def test_without_an_intake_appends_commit_on_their_own_and_say_so(granted, socket_path, settings, caplog):
    settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path  # nobody listens there
    intake._warned[0] = 0.0
    result = append_entry(**action_entry(1))
    assert PendingEntry.objects.filter(entry_id=result.entry_id).count() == 1
    assert f"ledger intake at {socket_path} unavailable" in caplog.text


@on_postgres
def test_a_restarted_intake_is_found_again(granted, running, socket_path):
    append_entry(**action_entry(1))
    running.close()
    assert not os.path.exists(socket_path)  # a stopped intake removes its socket
    fallback = append_entry(**action_entry(2))  # stored by its own statement meanwhile
    again = Running(socket_path)
    try:
        third = append_entry(**action_entry(3))
    finally:
        totals = again.close()
    assert totals.stored == 1
    assert PendingEntry.objects.filter(entry_id__in=[fallback.entry_id, third.entry_id]).count() == 2


@on_postgres
def test_an_intake_that_hangs_up_after_the_request_leaves_the_outcome_unknown(granted, socket_path, settings):
    settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(1)

    def take_and_hang_up():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    server = threading.Thread(target=take_and_hang_up)
    server.start()
    try:
        with pytest.raises(OperationalError, match="no answer for a sent entry") as raised:
            append_entry(**action_entry(1, actor={"kind": "system", "id": "test:runner"}))
        assert isinstance(raised.value, intake.IntakeOutcomeUnknown)
    finally:
        server.join(5)
        listener.close()
    assert PendingEntry.objects.filter(entry_type="action").count() == 0


@on_postgres
def test_a_bad_frame_is_answered_and_its_connection_closed_while_others_are_served(granted, running):
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.connect(running.intake.path)
    raw.sendall((5).to_bytes(4, "little") + b"\x09junk")
    answer = raw.recv(4096)
    assert answer[:1] == bytes((intake.FAILED,))
    assert answer[5:10] == b"08P01"
    assert b"unsupported protocol version 09" in answer
    assert raw.recv(4096) == b""  # hung up
    raw.close()
    result = append_entry(**action_entry(1))
    assert running.intake.totals.bad_requests == 1
    assert PendingEntry.objects.filter(entry_type="action").values_list("entry_id", flat=True).get() == result.entry_id


@on_postgres
def test_a_peer_of_another_user_is_refused_and_stores_on_its_own(granted, running, monkeypatch):
    monkeypatch.setattr(intake, "_allowed", lambda uid: False)
    result = append_entry(**action_entry(1))
    assert running.intake.totals.refused_peers >= 1
    assert running.intake.totals.rows == 0
    assert PendingEntry.objects.filter(entry_id=result.entry_id).count() == 1


# --- concurrency and the command -------------------------------------------------------------------

WRITERS, APPENDS = 8, 150


@pytest.mark.parametrize("committers", [1, 2])
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_writers_through_the_intake_make_one_gap_free_chain(committers, granted, socket_path, settings):
    settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path
    alone.forget_predictions()
    server = Running(socket_path, committers=committers)
    ids = write_concurrently(WRITERS, APPENDS, on_exit=intake.disconnect)
    totals = server.close()
    integrate_pending(actor=SYSTEM)

    total = WRITERS * APPENDS + 1  # and the grant's Governance entry
    assert PendingEntry.objects.count() == 0
    assert list(LedgerEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(total + 1))
    assert set(LedgerEntry.objects.filter(entry_type="action").values_list("entry_id", flat=True)) == set(ids)
    assert totals.stored == WRITERS * APPENDS  # every append went through the intake
    assert totals.batches < totals.rows  # and some commits carried several
    report = ledger_verify(actor=SYSTEM).report
    assert report.ok, report.problems
    assert report.checked == total + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_command_serves_until_sigterm_and_reports_its_totals(granted, socket_path, settings):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "ICDEV_ENV": "development", "ICDEV_LEDGER_INTAKE_SOCKET": socket_path}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "ledger_intake", "--json"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(300):
            if os.path.exists(socket_path) or process.poll() is not None:
                break
            time.sleep(0.05)
        assert os.path.exists(socket_path), process.communicate()[1]
        settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path
        alone.forget_predictions()
        result = append_entry(**action_entry(1))
        intake.disconnect()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert json.loads(out) == {
        "batches": 2,
        "rows": 2,
        "stored": 1,
        "largest_batch": 1,
        "refused_peers": 0,
        "bad_requests": 0,
    }
    assert PendingEntry.objects.filter(entry_id=result.entry_id).count() == 1
    assert not os.path.exists(socket_path)


def test_the_settings_check_names_what_is_wrong(settings, socket_path):
    settings.ICDEV_LEDGER_INTAKE_SOCKET = ""
    assert intake.intake_settings_check() == []
    inline = ["ledger.W001"] if connection.vendor != "postgresql" else []
    settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path
    assert [p.id for p in intake.intake_settings_check()] == inline
    settings.ICDEV_LEDGER_INTAKE_SOCKET = "/nowhere/" + "x" * 120 + ".sock"
    settings.ICDEV_LEDGER_INTAKE_TIMEOUT = 0
    problems = intake.intake_settings_check()
    assert [p.id for p in problems] == ["ledger.E003", "ledger.W002", *inline, "ledger.E004"]
    assert problems[0].msg == "ICDEV_LEDGER_INTAKE_SOCKET is 134 bytes long; a Unix socket path holds 107."
    settings.ICDEV_LEDGER_MODE = "inline"
    settings.ICDEV_LEDGER_INTAKE_SOCKET = socket_path
    settings.ICDEV_LEDGER_INTAKE_TIMEOUT = 10
    assert [p.id for p in intake.intake_settings_check()] == ["ledger.W001"]
