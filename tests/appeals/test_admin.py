"""Admin: appeal and review pages with process state and task history, actions that call the services,
and the project-scoped workflow inbox and queue that replaces viewflow's unscoped admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from viewflow.workflow.models import Process, Task

from accountability.models import Appeal, EthicsReview, WorkflowTask
from accountability.services import appeals as appeal_svc
from accountability.services import ethics_scores as scores_svc

from .factories import GOOD, create_review, submit_appeal

pytestmark = pytest.mark.django_db


def _do(client, model: str, obj, action: str, data=None):
    url = f"/admin/accountability/{model}/{obj.pk}/do/{action}/"
    return client.post(url, data) if data is not None else client.get(url)


def test_viewflow_admin_is_replaced_by_the_scoped_inbox():
    assert not admin.site.is_registered(Process)
    assert not admin.site.is_registered(Task)
    assert admin.site.is_registered(WorkflowTask)


def test_the_appeal_page_shows_the_process_and_assigns_through_the_service(
    client, appeal, staff_user, reviewer_user, outsider
):
    client.force_login(staff_user)
    page = client.get(f"/admin/accountability/appeal/{appeal.pk}/change/").content.decode()
    assert "Assign reviewer" in page
    assert "<td>Assign a reviewer</td><td>NEW</td>" in page
    form = _do(client, "appeal", appeal, "assign")
    assert list(form.context["form"].fields["reviewer"].queryset) == [reviewer_user]
    response = _do(client, "appeal", appeal, "assign", {"reviewer": reviewer_user.pk})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert (appeal.status, appeal.reviewer) == ("under_review", reviewer_user)
    client.force_login(outsider)
    assert client.get(f"/admin/accountability/appeal/{appeal.pk}/change/").status_code == 302  # not visible
    assert _do(client, "appeal", appeal, "assign").status_code == 404


def test_the_caio_decides_an_escalation_in_the_admin(client, under_review, reviewer_user, caio_user):
    appeal_svc.appeal_escalate(actor=reviewer_user, appeal=under_review, reason="Rights impact.")
    client.force_login(caio_user)
    page = client.get(f"/admin/accountability/appeal/{under_review.pk}/change/").content.decode()
    assert "Decide" in page
    refused = _do(client, "appeal", under_review, "resolve", {"outcome": "withdrawn", "resolution": "x"})
    assert refused.status_code == 200  # the form shows the error
    assert (
        _do(client, "appeal", under_review, "resolve", {"outcome": "upheld", "resolution": "Reversed."}).status_code
        == 302
    )
    assert Appeal.objects.get(pk=under_review.pk).status == "resolved"


def test_staff_submit_for_an_outside_appellant_in_the_admin(client, project, staff_user):
    client.force_login(staff_user)
    response = client.post(
        "/admin/accountability/appeal/add/",
        {
            "project": project.pk,
            "decision_trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "appellant_name": "Pat Doe",
            "appellant_phone": "555-0100",
            "reason": "Called in.",
        },
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.appellant_name, appeal.status) == ("Pat Doe", "submitted")
    assert appeal.process.status == "NEW"


def test_the_workflow_inbox_is_scoped_and_claims_through_the_service(client, appeal, staff_user, outsider, project):
    submit_appeal(outsider, outsider.icdev_memberships.get().project, appellant_name="X", appellant_phone="1")
    client.force_login(staff_user)
    listing = client.get("/admin/accountability/workflowtask/?box=queue")
    rows = list(listing.context["cl"].result_list)
    assert [task_row.process_id for task_row in rows] == [appeal.process.pk]
    task = rows[0]
    response = client.post(
        "/admin/accountability/workflowtask/", {"action": "claim", "_selected_action": [task.pk]}, follow=True
    )
    assert response.status_code == 200
    assert WorkflowTask.objects.get(pk=task.pk).owner == staff_user
    client.force_login(outsider)
    assert appeal.process.pk not in [
        t.process_id for t in client.get("/admin/accountability/workflowtask/").context["cl"].result_list
    ]


def test_the_review_page_and_its_actions(client, use_case, staff_user, caio_user, board):
    review = create_review(staff_user, use_case, board, start=False)
    client.force_login(staff_user)
    page = client.get(f"/admin/accountability/ethicsreview/{review.pk}/change/").content.decode()
    assert "Start the review" in page
    assert _do(client, "ethicsreview", review, "start", {}).status_code == 302
    for user in board:
        scores_svc.ethics_score_submit(actor=user, review=review, conflict_of_interest="none", scores=GOOD)
    client.force_login(caio_user)
    response = _do(client, "ethicsreview", review, "decide", {"outcome": "approve", "findings": "Sound."})
    assert response.status_code == 302
    assert EthicsReview.objects.get(pk=review.pk).decision == "approve"
    page = client.get(f"/admin/accountability/ethicsreview/{review.pk}/change/").content.decode()
    assert "<td>tally</td><td>DONE</td>" in page
    assert "<b>DONE</b> · finished" in page
