"""Portal pages: submit an appeal, my appeals, an appeal's page, my review tasks, an ethics review and its
scoring form. They render for the right people and are 404/403 for the others."""

from __future__ import annotations

import pytest

from accountability.models import Appeal, RubricScore

from .factories import FAIR, GOOD, create_review, new_trace_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_an_appellant_submits_through_the_portal(login, project, appellant_user, staff_user):
    client = login(appellant_user)
    page = client.get("/portal/appeals/new/")
    assert page.status_code == 200
    assert project.key in page.content.decode()
    bad = client.post("/portal/appeals/new/", {"project": project.key, "decision_trace_id": "nope", "reason": "x"})
    assert bad.status_code == 400
    assert "32 lower-case hexadecimal" in bad.content.decode()
    assert Appeal.objects.count() == 0
    trace = new_trace_id()
    response = client.post("/portal/appeals/new/", {"project": project.key, "decision_trace_id": trace, "reason": "x"})
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/appeals/{appeal.public_id}/"
    listing = client.get("/portal/appeals/").content.decode()
    assert appeal.public_id in listing
    detail = client.get(response["Location"]).content.decode()
    assert trace in detail
    assert "Case file" not in detail
    assert "Withdraw the appeal" in detail


def test_pages_are_404_or_403_for_others(login, appeal, reviewer_user, outsider, board_user, reviewer2):
    url = f"/portal/appeals/{appeal.public_id}/"
    assert login(outsider).get(url).status_code == 404
    assert login(reviewer2).get(url).status_code == 404
    assert login(reviewer_user).get("/portal/appeals/new/").status_code == 403
    assert login(board_user).post(url, {"action": "withdraw", "confirm": "on"}).status_code == 404


def test_the_reviewer_decides_from_the_appeal_page(login, under_review, reviewer_user, appellant_user):
    client = login(reviewer_user)
    tasks = client.get("/portal/tasks/").content.decode()
    assert under_review.public_id in tasks
    task = under_review.process.task_set.get(flow_task_type="HUMAN", status="ASSIGNED")
    assert client.get(f"/portal/tasks/{task.pk}/")["Location"] == f"/portal/appeals/{under_review.public_id}/"
    page = client.get(f"/portal/appeals/{under_review.public_id}/").content.decode()
    assert "Case file" in page
    assert "Record the decision" in page
    response = client.post(
        f"/portal/appeals/{under_review.public_id}/",
        {"action": "resolve", "outcome": "denied", "resolution": "It stands."},
    )
    assert response.status_code == 302
    assert Appeal.objects.get(pk=under_review.pk).outcome == "denied"
    # The appellant may not take the reviewer's step.
    assert (
        login(appellant_user)
        .post(
            f"/portal/appeals/{under_review.public_id}/", {"action": "resolve", "outcome": "upheld", "resolution": "x"}
        )
        .status_code
        == 403
    )


def test_the_appellant_adds_information_and_withdraws(login, appeal, appellant_user):
    client = login(appellant_user)
    url = f"/portal/appeals/{appeal.public_id}/"
    assert client.post(url, {"action": "information", "body": "New payslips."}).status_code == 302
    assert client.post(url, {"action": "withdraw"}).status_code == 400  # confirmation required
    assert client.post(url, {"action": "withdraw", "confirm": "on", "reason": "Sorted."}).status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.outcome, appeal.notes.count()) == ("resolved", "withdrawn", 1)
    assert "Withdrawn by the appellant" in client.get(url).content.decode()


def test_a_coordinator_assigns_from_the_portal(login, appeal, staff_user, reviewer_user):
    client = login(staff_user)
    assert "Assign a reviewer" in client.get(f"/portal/appeals/{appeal.public_id}/").content.decode()
    response = client.post(f"/portal/appeals/{appeal.public_id}/", {"action": "assign", "reviewer": reviewer_user.pk})
    assert response.status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).reviewer == reviewer_user


def test_a_board_member_scores_a_review(login, use_case, staff_user, board, board_user, outsider, caio_user):
    review = create_review(staff_user, use_case, board)
    client = login(board[0])
    assert review.public_id in client.get("/portal/tasks/").content.decode()
    url = f"/portal/ethics-reviews/{review.public_id}/score/"
    form = client.get(url)
    assert form.status_code == 200
    assert "Civil rights and liberties impact mitigated" in form.content.decode()
    bad = client.post(url, {"conflict_of_interest": "none", "score_fairness": 4})
    assert bad.status_code == 400
    assert "is a required property" in bad.content.decode()
    data = {"conflict_of_interest": "none", **{f"score_{k}": v for k, v in GOOD.items()}}
    assert client.post(url, data).status_code == 302
    assert RubricScore.objects.get().scores == GOOD
    assert "Scores are final" in client.get(url).content.decode()
    assert login(board_user).get(url).status_code == 403  # board role, but not on this board
    assert login(outsider).get(url).status_code == 404
    assert login(caio_user).get(f"/portal/ethics-reviews/{review.public_id}/").status_code == 200
    assert login(outsider).get(f"/portal/ethics-reviews/{review.public_id}/").status_code == 404


def test_a_decider_decides_a_review_from_the_portal(login, use_case, staff_user, board, caio_user):
    review = create_review(staff_user, use_case, board)
    for user, scores in zip(board, (GOOD, GOOD, FAIR), strict=True):
        login(user).post(
            f"/portal/ethics-reviews/{review.public_id}/score/",
            {"conflict_of_interest": "none", **{f"score_{k}": v for k, v in scores.items()}},
        )
    client = login(caio_user)
    queue = client.get("/portal/tasks/").content.decode()
    assert "Decide the ethics review" in queue
    url = f"/portal/ethics-reviews/{review.public_id}/"
    refused = client.post(url, {"action": "decide", "outcome": "approve", "findings": "x"})
    assert refused.status_code == 400
    assert "The scores allow at most" in refused.content.decode()
    done = client.post(
        url, {"action": "decide", "outcome": "approve_with_conditions", "findings": "x", "conditions": "y"}
    )
    assert done.status_code == 302
    assert login(staff_user).post(url, {"action": "decide", "outcome": "reject", "findings": "x"}).status_code == 403
