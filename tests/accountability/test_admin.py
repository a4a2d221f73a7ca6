"""The admin: scoped lists, service-backed forms and action buttons, no deletes, history by role."""

import pytest
from django.urls import reverse

from accountability.models import AIUseCase, CAIODesignation, OversightPlanVersion
from tests.factories import CAIODesignationFactory, PlanVersionFactory, UseCaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_lists_show_only_the_users_projects(login, staff_user, outsider, project, other_project):
    mine = UseCaseFactory(project=project, name="Mine")
    UseCaseFactory(project=other_project, name="Theirs")
    page = login(staff_user).get(reverse("admin:accountability_aiusecase_changelist"))
    assert page.status_code == 200
    assert [uc.name for uc in page.context["cl"].result_list] == ["Mine"]
    page = login(outsider).get(reverse("admin:accountability_aiusecase_change", args=[mine.pk]))
    assert page.status_code == 302  # admin redirects unknown/invisible objects to the index with a message


def test_add_use_case_goes_through_the_service(login, staff_user, project, ledger_count):
    before = ledger_count()
    url = reverse("admin:accountability_aiusecase_add")
    data = {
        "project": project.pk,
        "name": "Screener",
        "minimum_practices": "{}",
        "development_method": "vendor",
        "stakeholders-TOTAL_FORMS": 0,
        "stakeholders-INITIAL_FORMS": 0,
    }
    page = login(staff_user).post(url, data)
    assert page.status_code == 200  # re-rendered with the service's field error
    assert "Name the vendor of a vendor-developed use case." in page.content.decode()
    assert AIUseCase.objects.count() == 0
    assert ledger_count() == before
    data.update(vendor_name="Acme")
    page = login(staff_user).post(url, data)
    assert page.status_code == 302
    uc = AIUseCase.objects.get()
    assert (uc.name, uc.created_by, uc.history.get().history_user) == ("Screener", staff_user, staff_user)
    assert ledger_count() == before + 1


def test_stage_action_button(login, staff_user, project):
    uc = UseCaseFactory(project=project, high_impact=True, stage="pilot")
    client = login(staff_user)
    change = client.get(reverse("admin:accountability_aiusecase_change", args=[uc.pk])).content.decode()
    action_url = reverse("admin:accountability_aiusecase_object_action", args=[uc.pk, "stage"])
    assert action_url in change
    page = client.post(action_url, {"stage": "deployed", "reason": "Go"})
    assert page.status_code == 200
    assert "needs an active oversight plan" in page.content.decode()
    page = client.post(action_url, {"stage": "retired", "reason": "Done"})
    assert page.status_code == 302
    uc.refresh_from_db()
    assert uc.stage == "retired"


def test_reviewers_cannot_use_action_buttons(login, project):
    from tests.conftest import _member

    reviewer = _member(project, "staffreviewer", "reviewer", staff=True)
    uc = UseCaseFactory(project=project)
    client = login(reviewer)
    page = client.get(reverse("admin:accountability_aiusecase_change", args=[uc.pk]))
    assert page.status_code == 200  # may view
    page = client.post(
        reverse("admin:accountability_aiusecase_object_action", args=[uc.pk, "stage"]), {"stage": "pilot"}
    )
    assert "does not allow this" in page.content.decode()
    uc.refresh_from_db()
    assert uc.stage == "pre_deployment"


def test_designation_revoke_button(login, staff_user, project):
    designation = CAIODesignationFactory(project=project)
    client = login(staff_user)
    url = reverse("admin:accountability_caiodesignation_object_action", args=[designation.pk, "revoke"])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Term ended"}).status_code == 302
    designation.refresh_from_db()
    assert designation.revoked_reason == "Term ended"


def test_add_designation_form(login, staff_user, project):
    page = login(staff_user).post(
        reverse("admin:accountability_caiodesignation_add"),
        {
            "project": project.pk,
            "official_name": "Jane",
            "official_email": "jane@agency.gov",
            "authority_scope": "agency",
            "effective_date": "2026-01-01",
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    assert CAIODesignation.objects.get().status == "active"


def test_plan_buttons_new_version_and_approve(login, staff_user, caio_user, project):
    version = PlanVersionFactory(plan__project=project, status="active", created_by=staff_user)
    plan = version.plan
    client = login(staff_user)
    url = reverse("admin:accountability_oversightplan_object_action", args=[plan.pk, "new_version"])
    form = client.get(url).context["form"]
    data = {k: form[k].value() for k in form.fields}
    data.update(change_summary="Add a second reviewer", intervention_role="Deputy director", approval_required="on")
    assert client.post(url, data).status_code == 302
    assert plan.versions.get(version=2).status == "draft"
    approve = reverse("admin:accountability_oversightplan_object_action", args=[plan.pk, "approve"])
    page = client.post(approve, {"confirm": "on"})
    assert "Separation of duties" in page.content.decode()
    login(caio_user).post(approve, {"confirm": "on"})
    assert list(plan.versions.order_by("version").values_list("status", flat=True)) == ["archived", "active"]


def test_versions_are_read_only_and_nothing_is_deletable(login, superuser, project):
    version = PlanVersionFactory(plan__project=project)
    client = login(superuser)
    page = client.get(reverse("admin:accountability_oversightplanversion_change", args=[version.pk]))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert (
        client.get(
            reverse("admin:accountability_aiusecase_delete", args=[UseCaseFactory(project=project).pk])
        ).status_code
        == 403
    )
    assert OversightPlanVersion.objects.count() == 1


def test_history_page_needs_the_history_permission(login, auditor_user, board_user, project):
    from tests.conftest import _member

    board_staff = _member(project, "boardstaff", "ethics_board", staff=True)
    uc = UseCaseFactory(project=project)
    url = reverse("admin:accountability_aiusecase_history", args=[uc.pk])
    assert login(auditor_user).get(url).status_code == 200
    assert login(board_staff).get(url).status_code == 403


def test_admin_header_shows_unread_notifications_and_source(login, staff_user, caio_user, project):
    PlanVersionFactory(plan__project=project, created_by=staff_user)
    from accountability.services.oversight import oversight_plan_approve

    oversight_plan_approve(actor=caio_user, plan=OversightPlanVersion.objects.get().plan)
    page = login(staff_user).get(reverse("admin:index")).content.decode()
    assert "Notifications <strong>(1)</strong>" in page
    assert 'rel="source"' in page
