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
