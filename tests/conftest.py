"""Shared fixtures: named personas per role, an outsider from another project, and service checks.

In CI (CI=true) a service the tests need that is unreachable is a failure, not a skip.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accountability.ledger.selectors import appended_count
from accountability.models import Membership

from .factories import MembershipFactory, ProjectFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"
Role = Membership.Role


def pytest_configure(config):
    if IN_CI and os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        url = urlparse(os.environ["DATABASE_URL"])
        _require_tcp(url.hostname or "127.0.0.1", url.port or 5432, "PostgreSQL")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _require_tcp(host: str, port: int, name: str) -> None:
    if not _reachable(host, port):
        raise pytest.UsageError(f"CI=true and {name} at {host}:{port} is unreachable: failing instead of skipping.")


def need_service(url: str, name: str) -> str:
    """Return ``url`` when its server answers; skip on a laptop, fail in CI."""
    parsed = urlparse(url)
    if _reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        return url
    if IN_CI:
        pytest.fail(f"CI=true and {name} ({url}) is unreachable.")
    pytest.skip(f"{name} is unreachable at {url}")


@pytest.fixture
def redis_url() -> str:
    return need_service(os.environ.get("ICDEV_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), "Redis")


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """Tests marked ``postgres`` (with django_db(transaction=True)) run only on PostgreSQL."""
    if "postgres" in request.keywords and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://…)")


# --- personas -------------------------------------------------------------------------------


@pytest.fixture
def project(db):
    return ProjectFactory(key="proj-123", name="Benefits AI", is_federal_agency=True)


@pytest.fixture
def other_project(db):
    return ProjectFactory(key="proj-999", name="Other agency")


def _member(project, username, role, staff=True):
    user = UserFactory(username=username, is_staff=staff)
    MembershipFactory(project=project, user=user, role=role)
    return user


@pytest.fixture
def staff_user(project):
    return _member(project, "staff", Role.GOVERNANCE_STAFF)


@pytest.fixture
def staff_user2(project):
    return _member(project, "staff2", Role.GOVERNANCE_STAFF)


@pytest.fixture
def caio_user(project):
    return _member(project, "caio", Role.CAIO)


@pytest.fixture
def reviewer_user(project):
    return _member(project, "reviewer", Role.REVIEWER, staff=False)


@pytest.fixture
def board_user(project):
    return _member(project, "board", Role.ETHICS_BOARD, staff=False)


@pytest.fixture
def responder_user(project):
    return _member(project, "responder", Role.INCIDENT_RESPONDER)


@pytest.fixture
def auditor_user(project):
    return _member(project, "auditor", Role.AUDITOR)


@pytest.fixture
def appellant_user(project):
    return _member(project, "appellant", Role.APPELLANT, staff=False)


@pytest.fixture
def outsider(other_project):
    """Governance staff of another project: sees and changes nothing of ``project``."""
    return _member(other_project, "outsider", Role.GOVERNANCE_STAFF)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


ROLE_FIXTURES = {
    "governance_staff": "staff_user",
    "caio": "caio_user",
    "reviewer": "reviewer_user",
    "ethics_board": "board_user",
    "incident_responder": "responder_user",
    "auditor": "auditor_user",
    "appellant": "appellant_user",
    "outsider": "outsider",
}


@pytest.fixture
def persona(request):
    """``persona("auditor")`` returns the user of that role (or the outsider)."""
    return lambda name: request.getfixturevalue(ROLE_FIXTURES[name])


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` authenticates it."""
    client = APIClient()

    def as_user(user):
        client.force_authenticate(user)
        return client

    client.as_user = as_user
    return client


@pytest.fixture
def ledger_count():
    """Entries appended so far, queued or integrated (the genesis entry is not counted)."""
    return appended_count
