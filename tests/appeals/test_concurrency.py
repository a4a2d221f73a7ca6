"""Concurrent completions on PostgreSQL (SQLite ignores SELECT … FOR UPDATE): the flows' select_for_update
lock lets exactly one of two completions of one task succeed, and a join completes once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accountability.exceptions import Conflict, InvalidTransition
from accountability.models import Appeal, EthicsReview, RubricScore
from accountability.services import appeals as appeal_svc
from accountability.services import ethics_scores as scores_svc
from tests.ledger_reads import integrated

from .factories import GOOD, create_review, submit_appeal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls) -> list[str]:
    """Run the calls in parallel threads, released together; return 'ok' or the error class per call."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
            results.append("ok")
        except (InvalidTransition, Conflict) as exc:
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)


def test_two_coordinators_assign_the_same_appeal(
    project, appellant_user, staff_user, staff_user2, reviewer_user, reviewer2
):
    appeal = submit_appeal(appellant_user, project)
    results = _race(
        lambda: appeal_svc.appeal_assign_reviewer(
            actor=staff_user, appeal=Appeal.objects.get(pk=appeal.pk), reviewer=reviewer_user
        ),
        lambda: appeal_svc.appeal_assign_reviewer(
            actor=staff_user2, appeal=Appeal.objects.get(pk=appeal.pk), reviewer=reviewer2
        ),
    )
    assert results[-1] == "ok"
    assert results.count("ok") == 1
    assert integrated(action_type="appeal.assign_reviewer").count() == 1
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert appeal.process.task_set.filter(flow_task_type="HUMAN", status="ASSIGNED").count() == 1
    assert appeal.reviewer in (reviewer_user, reviewer2)


def test_one_member_submits_the_same_score_twice_at_once(project, use_case, staff_user, board):
    review = create_review(staff_user, use_case, board)

    def submit():
        scores_svc.ethics_score_submit(actor=board[0], review=review, conflict_of_interest="none", scores=GOOD)

    assert _race(submit, submit).count("ok") == 1
    assert RubricScore.objects.filter(review=review).count() == 1


def test_the_last_two_scores_at_once_close_the_round_once(project, use_case, staff_user, board):
    review = create_review(staff_user, use_case, board)
    scores_svc.ethics_score_submit(actor=board[0], review=review, conflict_of_interest="none", scores=GOOD)
    results = _race(
        *(
            lambda user=user: scores_svc.ethics_score_submit(
                actor=user, review=EthicsReview.objects.get(pk=review.pk), conflict_of_interest="none", scores=GOOD
            )
            for user in board[1:]
        )
    )
    assert results == ["ok", "ok"]
    process = EthicsReview.objects.get(pk=review.pk).process
    assert process.task_set.filter(flow_task_type="JOIN").count() == 1
    assert process.task_set.filter(flow_task_type="HUMAN", status="NEW").count() == 1  # one decision step
    assert integrated(action_type="ethics.tally").count() == 1
