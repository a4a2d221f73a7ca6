"""Projects and memberships: creation rights, keys, roles, the last governance-staff member."""

import pytest
from django.contrib.auth.models import Permission

from accountability.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed
from accountability.models import Membership, Project
from accountability.permissions import Perm, has_perm, require, visible_projects
from accountability.services import projects as project_svc
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_only_permitted_users_create_projects(db):
    user = UserFactory(username="planner")
    with pytest.raises(NotAllowed):
        project_svc.project_create(actor=user, name="P", organization="O")
    user.user_permissions.add(Permission.objects.get(codename="add_project"))
    user = type(user).objects.get(pk=user.pk)  # clear the permission cache
    project = project_svc.project_create(actor=user, name="P", organization="O", is_federal_agency=True)
    assert project.key == "proj-101"
    assert Membership.objects.get(project=project, user=user).role == "governance_staff"
    assert project_svc.project_create(actor=user, name="Q", organization="O").key == "proj-102"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"key": "Proj 1"}, "key"),
        ({"key": "-bad"}, "key"),
        ({"name": ""}, "name"),
        ({"is_cfo_act_agency": True}, "is_cfo_act_agency"),
    ],
)
def test_bad_project_input(fields, error_field, superuser):
    with pytest.raises(ValidationFailed) as exc:
        project_svc.project_create(actor=superuser, **{"name": "P", "organization": "O", **fields})
    assert error_field in exc.value.errors
    assert not Project.objects.exists()


def test_duplicate_key_is_refused(superuser, project):
    with pytest.raises(ValidationFailed) as exc:
        project_svc.project_create(actor=superuser, key=project.key, name="P", organization="O")
    assert "key" in exc.value.errors


def test_key_never_changes(staff_user, project):
    with pytest.raises(ValidationFailed) as exc:
        project_svc.project_update(actor=staff_user, project=project, key="proj-1")
    assert exc.value.errors == {"key": ["This field cannot be changed here."]}


def test_grant_and_revoke_roles(staff_user, project, ledger_count):
    user = UserFactory(username="newbie")
    project_svc.membership_grant(actor=staff_user, project=project, user=user, role="auditor")
    assert has_perm(user, project, Perm.HISTORY_VIEW)
    with pytest.raises(Conflict):
        project_svc.membership_grant(actor=staff_user, project=project, user=user, role="auditor")
    with pytest.raises(ValidationFailed):
        project_svc.membership_grant(actor=staff_user, project=project, user=user, role="emperor")
    before = ledger_count()
    project_svc.membership_revoke(actor=staff_user, project=project, user=user, role="auditor", reason="Audit over")
    assert not has_perm(user, project, Perm.PROJECT_VIEW)
    assert ledger_count() == before + 1


def test_last_governance_staff_member_stays(staff_user, project):
    with pytest.raises(Conflict, match="at least one governance-staff member"):
        project_svc.membership_revoke(actor=staff_user, project=project, user=staff_user, role="governance_staff")


def test_isolation_between_projects(staff_user, outsider, project, other_project):
    assert list(visible_projects(staff_user)) == [project]
    assert list(visible_projects(outsider)) == [other_project]
    with pytest.raises(NotFound):
        require(outsider, project, Perm.PROJECT_VIEW)
    with pytest.raises(NotFound):
        project_svc.project_update(actor=outsider, project=project, name="Mine now")


def test_inactive_users_lose_access(staff_user, project):
    staff_user.is_active = False
    assert not has_perm(staff_user, project, Perm.PROJECT_VIEW)
    assert not visible_projects(staff_user).exists()


def test_appellant_sees_the_project_but_not_the_registry(appellant_user, project):
    assert has_perm(appellant_user, project, Perm.PROJECT_VIEW)
    assert not has_perm(appellant_user, project, Perm.REGISTRY_VIEW)
    assert not visible_projects(appellant_user, Perm.REGISTRY_VIEW).exists()


def test_superuser_sees_every_project(superuser):
    ProjectFactory.create_batch(3)
    assert visible_projects(superuser).count() == 3
