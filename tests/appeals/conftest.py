"""Fixtures of the appeal and ethics-review tests: a high-impact use case, a second reviewer, a board."""

from __future__ import annotations

import pytest

from accountability.models import Membership
from tests.factories import UseCaseFactory

from .factories import member

Role = Membership.Role


@pytest.fixture
def use_case(project):
    return UseCaseFactory(project=project, name="Eligibility screener", high_impact=True)


@pytest.fixture
def reviewer2(project):
    return member(project, "reviewer2", Role.REVIEWER)


@pytest.fixture
def board(project):
    """Three board members: legal, technical and an affected-community representative."""
    return [
        member(project, "board.legal", Role.ETHICS_BOARD),
        member(project, "board.tech", Role.ETHICS_BOARD),
        member(project, "board.community", Role.ETHICS_BOARD),
    ]


@pytest.fixture
def other_use_case(other_project):
    return UseCaseFactory(project=other_project, name="Other agency's screener", high_impact=True)


@pytest.fixture
def appeal(project, use_case, appellant_user, staff_user):
    """An appeal submitted by the appellant (staff_user exists, so the coordinators are notified)."""
    from .factories import submit_appeal

    return submit_appeal(appellant_user, project, use_case)


@pytest.fixture
def under_review(appeal, staff_user, reviewer_user):
    """The appeal with its reviewer assigned."""
    from accountability.services import appeals as appeal_svc

    return appeal_svc.appeal_assign_reviewer(actor=staff_user, appeal=appeal, reviewer=reviewer_user)


def steps(subject) -> dict:
    """{step name: status} of a process, later rows of a name winning; readable in asserts."""
    process = type(subject).process.RelatedObjectDoesNotExist
    try:
        tasks = subject.process.task_set.order_by("pk")
    except process:
        return {}
    return {t.flow_task.name: t.status for t in tasks}
