"""The REST API: field errors with nothing written, 404 for other projects, 403 by role, filters."""

import pytest

from accountability.models import AIUseCase, CAIODesignation, OversightPlanVersion, Stakeholder
from tests.factories import CAIODesignationFactory, PlanVersionFactory, StakeholderFactory, UseCaseFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/ai-accountability"


def test_anonymous_requests_are_refused(api, project):
    response = api.get(f"{BASE}/use-cases/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_list_is_scoped_paginated_and_filtered(api, staff_user, outsider, project, other_project):
    UseCaseFactory.create_batch(3, project=project, stage="pilot")
    UseCaseFactory(project=project, stage="deployed", high_impact=True)
    UseCaseFactory(project=other_project)
    client = api.as_user(staff_user)
    body = client.get(f"{BASE}/use-cases/", {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (4, 2)
    assert body["next"].endswith("page=2&page_size=2")
    assert client.get(f"{BASE}/use-cases/", {"stage": "pilot"}).json()["count"] == 3
    assert client.get(f"{BASE}/use-cases/", {"high_impact": "true"}).json()["count"] == 1
    assert client.get(f"{BASE}/use-cases/", {"project": "proj-999"}).json()["count"] == 0
    assert api.as_user(outsider).get(f"{BASE}/use-cases/").json()["count"] == 1


def test_other_projects_rows_are_not_found(api, outsider, project):
    uc = UseCaseFactory(project=project)
    client = api.as_user(outsider)
    # An invisible row answers exactly like a row that does not exist.
    for url, missing in (
        (f"{BASE}/use-cases/{uc.public_id}/", f"{BASE}/use-cases/UC-99999/"),
        (f"{BASE}/projects/{project.key}/", f"{BASE}/projects/proj-000/"),
        (f"{BASE}/use-cases/{uc.public_id}/history/", f"{BASE}/use-cases/UC-99999/history/"),
    ):
        response, absent = client.get(url), client.get(missing)
        assert (response.status_code, absent.status_code) == (404, 404)
        assert response.json()["code"] == absent.json()["code"] == "not_found"
        assert response.json()["detail"].replace(uc.public_id, "X").replace(project.key, "X") == absent.json()[
            "detail"
        ].replace("UC-99999", "X").replace("proj-000", "X")
    response = client.post(f"{BASE}/use-cases/{uc.public_id}/stage/", {"stage": "pilot"}, format="json")
    assert response.status_code == 404
    uc.refresh_from_db()
    assert uc.stage == "pre_deployment"


def test_create_use_case(api, staff_user, project, ledger_count):
    before = ledger_count()
    response = api.as_user(staff_user).post(
        f"{BASE}/use-cases/",
        {
            "project": "proj-123",
            "name": "Screener",
            "stage": "pilot",
            "high_impact_determination": "high",
            "high_impact_bases": ["access"],
            "presumed_categories": ["m"],
            "is_generative": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["id"], body["project"], body["is_high_impact"]) == (
        AIUseCase.objects.get().public_id,
        "proj-123",
        True,
    )
    assert ledger_count() == before + 1


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"project": "proj-123"}, {"name": ["This field is required."]}),
        ({"project": "proj-999", "name": "X"}, {"project": ["No project 'proj-999'."]}),
        ({"project": "proj-123", "name": "X", "stage": "launched"}, {"stage": ['"launched" is not a valid choice.']}),
        (
            {"project": "proj-123", "name": "X", "high_impact_determination": "high"},
            {"high_impact_bases": ["A high-impact determination names at least one basis (M-25-21 §5)."]},
        ),
        (
            {"project": "proj-123", "name": "X", "contact_email": "nope"},
            {"contact_email": ["Enter a valid email address."]},
        ),
    ],
)
def test_create_use_case_bad_input_writes_nothing(payload, errors, api, staff_user, other_project, ledger_count):
    before = ledger_count()
    response = api.as_user(staff_user).post(f"{BASE}/use-cases/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "code": "invalid", "errors": errors}
    assert AIUseCase.objects.count() == 0
    assert ledger_count() == before


def test_role_denial_is_403_and_changes_nothing(api, auditor_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    response = api.as_user(auditor_user).patch(f"{BASE}/use-cases/{uc.public_id}/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    uc.refresh_from_db()
    assert uc.name != "X"
    assert ledger_count() == before


def test_illegal_transition_is_409(api, staff_user, project):
    uc = UseCaseFactory(project=project, stage="retired")
    response = api.as_user(staff_user).post(
        f"{BASE}/use-cases/{uc.public_id}/stage/", {"stage": "pilot"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_determination_and_completeness_endpoints(api, caio_user, project):
    uc = UseCaseFactory(project=project)
    client = api.as_user(caio_user)
    response = client.post(
        f"{BASE}/use-cases/{uc.public_id}/determination/",
        {"determination": "presumed_high_determined_not", "presumed_categories": ["m"]},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["high_impact_justification"]
    response = client.post(
        f"{BASE}/use-cases/{uc.public_id}/determination/",
        {
            "determination": "presumed_high_determined_not",
            "presumed_categories": ["m"],
            "justification": "Advisory only.",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["determination_by"] == "caio"
    report = client.get(f"{BASE}/use-cases/{uc.public_id}/completeness/").json()
    assert (report["complete"], report["stage"]) == (True, "pre_deployment")


def test_history_is_for_auditors_not_reviewers(api, staff_user, auditor_user, reviewer_user, project):
    uc = UseCaseFactory(project=project)
    api.as_user(staff_user).patch(f"{BASE}/use-cases/{uc.public_id}/", {"benefits": "More"}, format="json")
    body = api.as_user(auditor_user).get(f"{BASE}/use-cases/{uc.public_id}/history/").json()
    assert body["count"] == 2
    assert body["results"][0]["changes"] == {"benefits": ["Faster service.", "More"]}
    assert body["results"][0]["user"] == "staff"
    assert api.as_user(reviewer_user).get(f"{BASE}/use-cases/{uc.public_id}/history/").status_code == 403


def test_caio_endpoints(api, staff_user, project, ledger_count):
    client = api.as_user(staff_user)
    response = client.post(
        f"{BASE}/caio/",
        {
            "project": "proj-123",
            "official_name": "Jane Smith",
            "official_email": "jane@agency.gov",
            "authority_scope": "agency",
            "effective_date": "2026-01-01",
            "delegation_chain": [
                {
                    "delegate_name": "A",
                    "delegate_email": "a@agency.gov",
                    "scope": "project",
                    "powers": ["waiver"],
                    "start_date": "2026-02-01",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["delegation_chain"][0].startswith("delegate 1: 'waiver' authority is not")
    assert CAIODesignation.objects.count() == 0
    response = client.post(
        f"{BASE}/caio/",
        {
            "project": "proj-123",
            "official_name": "Jane Smith",
            "official_email": "jane@agency.gov",
            "authority_scope": "agency",
            "effective_date": "2026-01-01",
        },
        format="json",
    )
    assert response.status_code == 201
    caio_id = response.json()["id"]
    response = client.post(
        f"{BASE}/caio/",
        {
            "project": "proj-123",
            "official_name": "Bob",
            "official_email": "bob@agency.gov",
            "authority_scope": "agency",
        },
        format="json",
    )
    assert response.status_code == 409
    status = client.get(f"{BASE}/caio/status/", {"project": "proj-123"}).json()
    assert (status["has_active_caio"], status["active"]["id"]) == (True, caio_id)
    assert client.get(f"{BASE}/caio/status/").status_code == 400
    assert client.post(f"{BASE}/caio/{caio_id}/revoke/", {"reason": ""}, format="json").status_code == 400
    response = client.post(f"{BASE}/caio/{caio_id}/revoke/", {"reason": "Retired"}, format="json")
    assert response.json()["status"] == "revoked"
    assert client.get(f"{BASE}/caio/", {"status": "revoked"}).json()["count"] == 1


def test_caio_delegate_endpoint(api, staff_user, project):
    designation = CAIODesignationFactory(project=project)
    client = api.as_user(staff_user)
    response = client.post(
        f"{BASE}/caio/{designation.public_id}/delegate/",
        {
            "delegate_name": "A",
            "delegate_email": "a@agency.gov",
            "scope": "agency",
            "powers": ["inventory"],
            "start_date": "2026-02-01",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["delegation_chain"][0]["delegated_by"] == "jane@agency.gov"
    response = client.post(
        f"{BASE}/caio/{designation.public_id}/undelegate/", {"position": 3, "reason": "x"}, format="json"
    )
    assert response.status_code == 400


def test_plan_endpoints_versioning(api, staff_user, caio_user, project):
    uc = UseCaseFactory(project=project, high_impact=True)
    staff = api.as_user(staff_user)
    response = staff.post(
        f"{BASE}/oversight-plans/",
        {"project": "proj-123", "use_case": uc.public_id, "template": "standard_hitl"},
        format="json",
    )
    assert response.status_code == 201
    plan_id = response.json()["id"]
    assert staff.post(f"{BASE}/oversight-plans/{plan_id}/approve/", {}, format="json").status_code == 403
    caio = api.as_user(caio_user)
    assert caio.post(f"{BASE}/oversight-plans/{plan_id}/approve/", {}, format="json").json()["status"] == "active"
    response = staff.post(
        f"{BASE}/oversight-plans/{plan_id}/versions/",
        {"change_summary": "x", "roles": [{"role": "Only"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["roles"] == ["item 1: 'assignee' is a required property"]
    response = staff.post(
        f"{BASE}/oversight-plans/{plan_id}/versions/", {"change_summary": "x", "fail_safe": "Stop."}, format="json"
    )
    assert (response.status_code, response.json()["version"]) == (201, 2)
    assert (
        staff.post(
            f"{BASE}/oversight-plans/{plan_id}/versions/", {"change_summary": "y", "fail_safe": "Halt."}, format="json"
        ).status_code
        == 409
    )
    detail = staff.get(f"{BASE}/oversight-plans/{plan_id}/").json()
    assert [(v["version"], v["status"]) for v in detail["versions"]] == [(1, "active"), (2, "draft")]
    assert (detail["active_version"], detail["latest_version"], detail["has_draft"]) == (1, 2, True)
    assert OversightPlanVersion.objects.count() == 2


def test_stakeholder_endpoints(api, staff_user, project):
    uc = UseCaseFactory(project=project)
    client = api.as_user(staff_user)
    response = client.post(
        f"{BASE}/stakeholders/",
        {"use_case": uc.public_id, "name": "Vendor", "role": "ai_tool_provider", "responsibility_share": "120"},
        format="json",
    )
    assert response.status_code == 400
    assert Stakeholder.objects.count() == 0
    response = client.post(
        f"{BASE}/stakeholders/",
        {"use_case": uc.public_id, "name": "Vendor", "role": "ai_tool_provider", "responsibility_share": "60"},
        format="json",
    )
    assert response.status_code == 201
    party = response.json()["id"]
    response = client.post(
        f"{BASE}/obligations/",
        {"stakeholder": party, "description": "Fix defects", "sla_metric": "defect_response_hours", "sla_target": "48"},
        format="json",
    )
    assert response.status_code == 201
    obligation = response.json()["id"]
    assert (
        client.post(f"{BASE}/obligations/{obligation}/status/", {"status": "met"}, format="json").json()["status"]
        == "met"
    )
    assert client.get(f"{BASE}/use-cases/{uc.public_id}/responsibility/").json()["allocated"] == "60.00"
    response = client.post(
        f"{BASE}/stakeholders/allocate/", {"use_case": uc.public_id, "shares": {party: "100"}}, format="json"
    )
    assert response.status_code == 200
    assert client.get(f"{BASE}/stakeholders/", {"use_case": uc.public_id}).json()["count"] == 1


def test_membership_endpoints(api, staff_user, reviewer_user, project):
    client = api.as_user(staff_user)
    members = client.get(f"{BASE}/projects/proj-123/members/").json()
    assert {(m["user"], m["role"]) for m in members} == {("staff", "governance_staff"), ("reviewer", "reviewer")}
    response = client.post(f"{BASE}/projects/proj-123/members/", {"user": "ghost", "role": "auditor"}, format="json")
    assert response.json()["errors"] == {"user": ["No active user 'ghost'."]}
    response = client.post(f"{BASE}/projects/proj-123/members/", {"user": "reviewer", "role": "auditor"}, format="json")
    assert response.status_code == 201
    assert (
        api.as_user(reviewer_user)
        .post(f"{BASE}/projects/proj-123/members/revoke/", {"user": "reviewer", "role": "auditor"}, format="json")
        .status_code
        == 403
    )


def test_project_create_needs_the_permission(api, staff_user, superuser):
    response = api.as_user(staff_user).post(f"{BASE}/projects/", {"name": "P", "organization": "O"}, format="json")
    assert response.status_code == 403
    response = api.as_user(superuser).post(
        f"{BASE}/projects/", {"name": "P", "organization": "O", "key": "Bad Key"}, format="json"
    )
    assert response.status_code == 400
    assert "key" in response.json()["errors"]


def test_notifications_are_private(api, staff_user, caio_user, project):
    PlanVersionFactory(plan__project=project, created_by=staff_user)
    plan = PlanVersionFactory._meta.model.objects.get().plan
    api.as_user(caio_user).post(f"{BASE}/oversight-plans/{plan.public_id}/approve/", {}, format="json")
    notes = api.as_user(staff_user).get(f"{BASE}/notifications/", {"unread": "1"}).json()
    assert notes["count"] == 1
    note_id = notes["results"][0]["id"]
    assert api.as_user(caio_user).post(f"{BASE}/notifications/{note_id}/read/").status_code == 404
    assert api.as_user(staff_user).post(f"{BASE}/notifications/{note_id}/read/").json()["is_read"] is True


def test_every_response_links_the_source(api, staff_user, project):
    response = api.as_user(staff_user).get(f"{BASE}/projects/")
    assert response["Link"] == '</source/>; rel="source"'
    assert response["X-License"] == "AGPL-3.0-or-later"


def test_openapi_schema_generates_without_warnings(api, staff_user, capsys):
    response = api.as_user(staff_user).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/ai-accountability/oversight-plans/{id}/approve/" in response.json()["paths"]
    assert "Warning" not in capsys.readouterr().err


def test_stakeholder_factory_project_matches(project):
    assert StakeholderFactory(use_case__project=project).project == project
