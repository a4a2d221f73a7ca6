"""Factories and builders for appeals and ethics reviews (base factories come from ``tests.factories``).

Factories arrange rows directly (for reads, admin and portal rendering); builders drive the services and
flows the way users do, so a test can start from any point of a process.
"""

from __future__ import annotations

import datetime as dt
import secrets

import factory
from django.utils import timezone

from accountability.ledger.append import append_entry
from accountability.ledger.models import LedgerEntry
from accountability.models import Appeal, BoardMember, Membership
from accountability.services import appeals as appeal_svc
from accountability.services import ethics as ethics_svc
from tests.factories import MembershipFactory, ProjectFactory, UseCaseFactory, UserFactory

Role = Membership.Role

# Scores on the icdev-core rubric: all 5 (aggregate 1.000), all 4 (0.750), all 3 (0.500).
TOP = {"rights_impact": 5, "fairness": 5, "privacy": 5, "transparency": 5, "oversight": 5, "accountability": 5}
GOOD = dict.fromkeys(TOP, 4)
FAIR = dict.fromkeys(TOP, 3)
VETO = {**TOP, "fairness": 1}


def new_trace_id() -> str:
    """A random, valid W3C trace id."""
    return secrets.token_hex(16)


def decision_entry(trace_id: str, project, decided_by=None) -> LedgerEntry:
    """Record an AI decision in the ledger under ``trace_id`` (what an integration does before an appeal)."""
    human = (
        {"kind": "user", "id": str(decided_by.pk), "name": decided_by.get_username()}
        if decided_by
        else {"kind": "system", "id": "screener", "name": "screener"}
    )
    return append_entry(
        entry_type=LedgerEntry.EntryType.DECISION,
        actor={"model_id": "screener-v3", "provider": "acme", "session_id": "", "human": human},
        action={"type": "eligibility.score", "description": "Application scored", "inputs": [], "outputs": []},
        project_key=project.key,
        trace_id=trace_id,
    )


def member(project, username: str, role: str, staff: bool = False):
    """A user holding ``role`` in ``project``."""
    user = UserFactory(username=username, is_staff=staff)
    MembershipFactory(project=project, user=user, role=role)
    return user


class AppealFactory(factory.django.DjangoModelFactory):
    """An appeal row as submitted (no process): for reads and rendering only."""

    class Meta:
        model = Appeal

    project = factory.SubFactory(ProjectFactory)
    use_case = factory.SubFactory(UseCaseFactory, project=factory.SelfAttribute("..project"))
    decision_trace_id = factory.LazyFunction(new_trace_id)
    appellant_name = "Pat Doe"
    appellant_email = "pat@example.org"
    reason = "The score ignored my updated wage records."
    assignment_due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=7))
    decision_due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


def submit_appeal(actor, project, use_case=None, **kwargs) -> Appeal:
    """An appeal submitted through the service (its process started)."""
    kwargs.setdefault("decision_trace_id", new_trace_id())
    kwargs.setdefault("reason", "The AI score ignored my updated wage records.")
    return appeal_svc.appeal_submit(actor=actor, project=project, use_case=use_case, **kwargs)


def board_spec(*users, disciplines=None) -> list[dict]:
    """Board seats for ``users``: the last one represents the affected community unless told otherwise."""
    disciplines = disciplines or [*["legal", "technical", "domain"][: len(users) - 1], "affected_community"]
    return [
        {
            "user": user,
            "discipline": discipline,
            "party": "affected_community" if discipline == "affected_community" else "deployer",
        }
        for user, discipline in zip(users, disciplines, strict=True)
    ]


def create_review(actor, use_case, board_users, *, start=True, **kwargs):
    """An ethics review created (and started) through the service."""
    kwargs.setdefault("summary", "Model card, impact assessment and test results of the screener.")
    return ethics_svc.ethics_review_create(
        actor=actor, use_case=use_case, board=board_spec(*board_users), start=start, **kwargs
    )


__all__ = [
    "FAIR",
    "GOOD",
    "TOP",
    "VETO",
    "AppealFactory",
    "BoardMember",
    "board_spec",
    "create_review",
    "decision_entry",
    "member",
    "new_trace_id",
    "submit_appeal",
]
