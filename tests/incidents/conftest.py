"""Fixtures of the incident, reassessment and notification tests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from accountability.actors import SystemActor
from accountability.ledger.models import LedgerEntry
from accountability.ledger.selectors.explain import PersonNames
from accountability.ledger.services.integration import integrate_pending
from accountability.models import Incident

from .factories import IncidentFactory, UseCaseFactory

SLA = SystemActor("celery:sla")


@pytest.fixture
def sla_actor():
    return SLA


@pytest.fixture
def use_case(project):
    return UseCaseFactory(project=project, name="Eligibility screener")


@pytest.fixture
def incident(project):
    return IncidentFactory(project=project)


@pytest.fixture
def make_incident(project):
    def make(status=Incident.Status.OPEN, **kw):
        extra = {}
        if status in (Incident.Status.RESOLVED, Incident.Status.CLOSED):
            extra = {"root_cause": "Training data gap", "resolved_at": timezone.now()}
        if status == Incident.Status.CLOSED:
            extra.update(lessons_learned="Add validation", closed_at=extra["resolved_at"])
        return IncidentFactory(project=kw.pop("project", project), status=status, **extra, **kw)

    return make


def ledger_entries() -> list[dict]:
    """Every ledger entry but the genesis entry, in log order, as {id, project, type, actor}: the one place
    these tests read the ledger's own schema. Queued entries (PostgreSQL) are integrated first; a person
    (stored as an HMAC token) is shown by username, a system actor by its name."""
    integrate_pending()
    names = PersonNames()
    entries = []
    for e in LedgerEntry.objects.filter(seq__gt=0).order_by("seq"):
        actor = e.document["actor"]
        who = names.name(actor["id"]) if actor["kind"] == "user" else actor["id"]
        entries.append({"id": e.entry_id, "project": e.project_key, "type": e.action_type, "actor": who})
    return entries


class Receiver:
    """A real HTTP endpoint on localhost that answers with the given status codes, in turn."""

    def __init__(self, codes):
        self.codes, self.requests = list(codes), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(*codes):
        made.append(Receiver(codes))
        return made[-1]

    yield make
    for r in made:
        r.close()
