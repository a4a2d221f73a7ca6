"""The appeals, ethics-reviews and tasks endpoints: role scoping, the appellant's view, task claim and
complete with payloads, and domain errors as 400/403/404/409 with nothing written."""

from __future__ import annotations

import pytest

from accountability.models import Appeal, EthicsReview, RubricScore

from .factories import GOOD, TOP, board_spec, new_trace_id

pytestmark = pytest.mark.django_db
BASE = "/api/v1/ai-accountability"


def test_an_appellant_submits_and_reads_only_their_view(api, project, appellant_user, staff_user, ledger_count):
    client = api.as_user(appellant_user)
    trace = new_trace_id()
    response = client.post(f"{BASE}/appeals/", {"project": project.key, "decision_trace_id": trace, "reason": "Wrong."})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["decision_trace_id"]) == ("submitted", trace)
    assert "reviewer" not in body
    assert "decision_takers" not in body
    listed = client.get(f"{BASE}/appeals/").json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    staff_view = api.as_user(staff_user).get(f"{BASE}/appeals/{body['id']}/").json()
    assert staff_view["appellant"] == "appellant"
    assert staff_view["reviewer"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"decision_trace_id": "xyz", "reason": "r"}, "decision_trace_id"),
        ({"decision_trace_id": "0" * 32, "reason": "r"}, "decision_trace_id"),
        ({"decision_trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}, "reason"),
        ({"reason": "r"}, "decision_trace_id"),
    ],
)
def test_bad_appeal_input_is_400_and_writes_nothing(api, project, appellant_user, payload, field, ledger_count):
    entries = ledger_count()
    response = api.as_user(appellant_user).post(f"{BASE}/appeals/", {"project": project.key, **payload})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert (Appeal.objects.count(), ledger_count()) == (0, entries)


def test_role_and_project_errors_map_to_403_and_404(api, project, reviewer_user, outsider, appeal, ledger_count):
    entries = ledger_count()
    payload = {"project": project.key, "decision_trace_id": new_trace_id(), "reason": "r"}
    assert api.as_user(reviewer_user).post(f"{BASE}/appeals/", payload).status_code == 403
    response = api.as_user(outsider).post(f"{BASE}/appeals/", payload)
    assert response.status_code == 400  # another project's key reads as an unknown project
    assert response.json()["errors"]["project"] == [f"No project {project.key!r}."]
    assert api.as_user(outsider).get(f"{BASE}/appeals/{appeal.public_id}/").status_code == 404
    assert (
        api.as_user(reviewer_user)
        .post(f"{BASE}/appeals/{appeal.public_id}/assign/", {"reviewer": "reviewer"})
        .status_code
        == 404
    )
    assert (Appeal.objects.count(), ledger_count()) == (1, entries)


def test_the_appeal_steps_through_the_api(api, appeal, staff_user, reviewer_user, appellant_user, caio_user):
    url = f"{BASE}/appeals/{appeal.public_id}"
    response = api.as_user(staff_user).post(f"{url}/assign/", {"reviewer": "reviewer"})
    assert response.status_code == 200
    assert response.json()["status"] == "under_review"
    assert api.as_user(staff_user).post(f"{url}/assign/", {"reviewer": "reviewer"}).status_code == 409
    response = api.as_user(appellant_user).post(f"{url}/information/", {"body": "Payslips attached."})
    assert response.status_code == 201
    assert response.json()["notes"][0]["body"] == "Payslips attached."
    response = api.as_user(reviewer_user).post(f"{url}/escalate/", {"reason": "Rights impact."})
    assert response.json()["status"] == "escalated"
    assert (
        api.as_user(reviewer_user).post(f"{url}/resolve/", {"outcome": "upheld", "resolution": "x"}).status_code == 403
    )
    response = api.as_user(caio_user).post(f"{url}/resolve/", {"outcome": "upheld", "resolution": "Reversed."})
    assert response.json()["resolution_date"] is not None
    steps = api.as_user(staff_user).get(f"{url}/tasks/").json()
    assert [s["step"] for s in steps] == [
        "start",
        "assign_reviewer",
        "assign_reviewer__timeout",
        "review",
        "route",
        "escalate",
        "close",
        "end",
    ]
    assert api.as_user(appellant_user).get(f"{url}/tasks/").status_code == 403
    assert api.as_user(appellant_user).get(f"{url}/").json()["outcome"] == "upheld"


def test_inbox_queue_claim_and_complete(api, appeal, staff_user, staff_user2, reviewer_user, appellant_user):
    queue = api.as_user(staff_user).get(f"{BASE}/tasks/?box=queue").json()["results"]
    assert [(t["step"], t["subject"], t["owner"]) for t in queue] == [("assign_reviewer", appeal.public_id, None)]
    assert api.as_user(appellant_user).get(f"{BASE}/tasks/").json()["results"] == []
    task_id = queue[0]["id"]
    assert api.as_user(reviewer_user).post(f"{BASE}/tasks/{task_id}/claim/").status_code == 404
    claimed = api.as_user(staff_user).post(f"{BASE}/tasks/{task_id}/claim/")
    assert claimed.json()["owner"] == "staff"
    assert api.as_user(staff_user2).post(f"{BASE}/tasks/{task_id}/claim/").status_code == 409
    response = api.as_user(staff_user2).post(f"{BASE}/tasks/{task_id}/complete/", {"reviewer": "reviewer"})
    assert response.status_code == 409
    assert response.json()["detail"] == "This step is claimed by staff."
    assert api.as_user(staff_user).post(f"{BASE}/tasks/{task_id}/complete/", {}).status_code == 400
    done = api.as_user(staff_user).post(f"{BASE}/tasks/{task_id}/complete/", {"reviewer": "reviewer"})
    assert (done.status_code, done.json()["status"]) == (200, "DONE")
    inbox = api.as_user(reviewer_user).get(f"{BASE}/tasks/?box=inbox").json()["results"]
    assert [t["step"] for t in inbox] == ["review"]
    review_task = inbox[0]["id"]
    bad = api.as_user(reviewer_user).post(f"{BASE}/tasks/{review_task}/complete/", {"action": "resolve"})
    assert sorted(bad.json()["errors"]) == ["outcome", "resolution"]
    ok = api.as_user(reviewer_user).post(
        f"{BASE}/tasks/{review_task}/complete/", {"action": "resolve", "outcome": "denied", "resolution": "Stands."}
    )
    assert ok.status_code == 200
    assert Appeal.objects.get(pk=appeal.pk).outcome == "denied"
    assert (
        api.as_user(reviewer_user)
        .post(f"{BASE}/tasks/{review_task}/complete/", {"action": "resolve", "outcome": "denied", "resolution": "x"})
        .status_code
        == 409
    )


def test_a_claimed_step_can_be_released(api, appeal, staff_user, staff_user2):
    task_id = api.as_user(staff_user).get(f"{BASE}/tasks/?box=queue").json()["results"][0]["id"]
    api.as_user(staff_user).post(f"{BASE}/tasks/{task_id}/claim/")
    assert api.as_user(staff_user2).post(f"{BASE}/tasks/{task_id}/release/").status_code == 409
    released = api.as_user(staff_user).post(f"{BASE}/tasks/{task_id}/release/")
    assert (released.status_code, released.json()["owner"]) == (200, None)


def test_ethics_review_through_the_api(api, project, use_case, staff_user, caio_user, board, auditor_user):
    payload = {
        "use_case": use_case.public_id,
        "summary": "Model card and impact assessment.",
        "board": [{**seat, "user": seat["user"].username} for seat in board_spec(*board)],
    }
    created = api.as_user(staff_user).post(f"{BASE}/ethics-reviews/", payload)
    assert created.status_code == 201, created.json()
    review = created.json()
    assert (review["status"], review["version"], review["rubric_key"]) == ("in_progress", 1, "icdev-core")
    url = f"{BASE}/ethics-reviews/{review['id']}"
    bad = api.as_user(board[0]).post(f"{url}/scores/", {"conflict_of_interest": "none", "scores": {"fairness": 7}})
    assert bad.status_code == 400
    assert RubricScore.objects.count() == 0
    assert (
        api.as_user(board[0]).post(f"{url}/scores/", {"conflict_of_interest": "none", "scores": GOOD}).status_code
        == 201
    )
    assert (
        api.as_user(board[0]).post(f"{url}/scores/", {"conflict_of_interest": "none", "scores": GOOD}).status_code
        == 409
    )
    assert (
        api.as_user(staff_user).post(f"{url}/scores/", {"conflict_of_interest": "none", "scores": GOOD}).status_code
        == 403
    )
    for user in board[1:]:
        api.as_user(user).post(f"{url}/scores/", {"conflict_of_interest": "none", "scores": TOP})
    decide = api.as_user(caio_user).get(f"{BASE}/tasks/?box=queue").json()["results"]
    assert [t["step"] for t in decide] == ["decide"]
    assert api.as_user(staff_user).get(f"{BASE}/tasks/?box=queue").json()["results"] == []  # the submitter
    response = api.as_user(caio_user).post(
        f"{BASE}/tasks/{decide[0]['id']}/complete/", {"outcome": "approve", "findings": "Sound."}
    )
    assert response.status_code == 200, response.json()
    detail = api.as_user(auditor_user).get(f"{url}/").json()
    assert (detail["status"], detail["decision"]) == ("completed", "approve")
    assert [v["aggregate_score"] for v in detail["versions"]] == ["0.917"]
    assert len(detail["scores"]) == 3
    assert api.as_user(auditor_user).get(f"{url}/tasks/").status_code == 200
    assert EthicsReview.objects.get().is_approved


def test_ethics_review_input_errors(api, use_case, staff_user, board_user, ledger_count):
    entries = ledger_count()
    response = api.as_user(staff_user).post(
        f"{BASE}/ethics-reviews/",
        {
            "use_case": use_case.public_id,
            "summary": "s",
            "board": [{"user": "staff", "discipline": "legal", "party": "deployer"}],
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"]["user"] == ["The submitter never sits on the board of their own review."]
    response = api.as_user(board_user).post(
        f"{BASE}/ethics-reviews/",
        {
            "use_case": use_case.public_id,
            "summary": "s",
            "board": [{"user": "board", "discipline": "law", "party": "deployer"}],
        },
    )
    assert response.status_code == 400  # unknown discipline, before any permission check writes anything
    assert (EthicsReview.objects.count(), ledger_count()) == (0, entries)


def test_the_api_root_lists_the_new_collections(client):
    collections = client.get(f"{BASE}/").json()["collections"]
    assert {"appeals", "ethics-reviews", "tasks"} <= set(collections)
