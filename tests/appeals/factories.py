"""Factories and builders for appeals and ethics reviews (base factories come from ``tests.factories``).

Factories arrange rows directly (for reads, admin and portal rendering); builders drive the services and
flows the way users do, so a test can start from any point of a process.
"""

from __future__ import annotations

import datetime as dt
import secrets

import factory
from django.utils import timezone

from accountability.actors import SystemActor
from accountability.ledger.append import AppendResult, append_entry
from accountability.ledger.models import ScopeGrant
from accountability.ledger.schema import EntryType
from accountability.ledger.services.grants import scope_grant_create
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


SCREENER = {"model_id": "screener-v3", "provider": "acme", "model_version": "3.2"}


def decision_entry(trace_id: str, project, decided_by=None, *, granted: bool = True) -> AppendResult:
    """Record an AI decision in the ledger under ``trace_id`` (what an integration does before an appeal).
    ``decided_by`` is the person who oversaw it (else the project, as an organisation, is accountable).
    The screener gets a scope grant first unless ``granted`` is False: without one the ledger's
    invitation check also appends a Violation entry."""
    if granted and not ScopeGrant.objects.filter(project=project, model_id=SCREENER["model_id"]).exists():
        scope_grant_create(
            actor=SystemActor("cli:test"),
            project=project,
            model_id=SCREENER["model_id"],
            action_types=["eligibility.*"],
        )
    oversight = {"kind": "user", "id": decided_by.get_username()} if decided_by else {"kind": "org", "id": project.key}
    return append_entry(
        entry_type=EntryType.DECISION,
        actor=SCREENER,
        action={
            "type": "eligibility.score",
            "description": "Application scored",
            "inputs": ["application summary"],
            "outputs": ["score: unlikely eligible"],
            "rationale": "Income and household size against the programme's thresholds.",
        },
        accountability={
            "human_oversight": "selective",
            "reversibility": "reversible",
            "responsibility": {"oversight": oversight},
        },
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
