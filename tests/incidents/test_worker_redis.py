"""End to end on real infrastructure: a Celery worker process consumes the SLA sweep from Redis and works
on the test database. Needs PostgreSQL (the worker cannot share SQLite's in-memory test database) and
Redis; skipped on a laptop without them, a failure in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from accountability.models import IncidentEvent, Notification

from .conftest import ledger_entries
from .factories import IncidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
REDIS_DB = 2  # this capability's own Redis database on shared machines
ROOT = Path(__file__).resolve().parents[2]


def _own_db(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{REDIS_DB}"))


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def broker(redis_url):
    url = _own_db(redis_url)
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def worker(broker, tmp_path):
    """A real worker process (solo pool, as in `make run`) on the Redis broker and the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "icdev.settings_test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "CI": os.environ.get("CI", ""),
    }
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and a fixed argv
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "icdev",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            "-n",
            f"itest-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc, tmp_path / "worker.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_sla_sweep_end_to_end_through_a_redis_worker(worker, broker, project, responder_user):
    proc, log = worker
    incident = IncidentFactory(project=project, breached=True, assigned_to=responder_user)
    IncidentFactory(project=project)  # within its SLA: untouched
    client = Celery("itest", broker=broker, backend=broker)
    try:
        first = client.send_task("incidents.sla_sweep").get(timeout=120)
        second = client.send_task("incidents.sla_sweep").get(timeout=60)
        # The bulk e-mail dispatch the sweep queued after its commit ran on the worker too.
        client.send_task("notifications.dispatch_pending").get(timeout=60)
    except Exception:
        print(log.read_text()[-4000:])
        raise
    finally:
        client.close()
    assert proc.poll() is None, log.read_text()[-4000:]
    assert first == {"sla_breached": 1, "escalated": 0, "eu_reports_overdue": 0, "corrective_actions_overdue": 0}
    assert second == {"sla_breached": 0, "escalated": 0, "eu_reports_overdue": 0, "corrective_actions_overdue": 0}
    incident.refresh_from_db()
    assert incident.sla_breached_at is not None
    note = Notification.objects.get(kind="incident.sla_breach")
    assert (note.recipient, note.email_status) == (responder_user, "sent")
    event = incident.events.get(kind=IncidentEvent.Kind.SLA_BREACHED)
    assert event.actor_label == "celery:sla"
    assert {
        "id": event.ledger_entry_id,
        "project": project.key,
        "type": "incident.sla_breach",
        "actor": "celery:sla",
    } in (ledger_entries())
    assert incident.history.filter(history_change_reason="SLA breached (by celery:sla)").count() == 1
    assert settings.CELERY_TASK_ALWAYS_EAGER  # this process stayed eager: the work above was the worker's
