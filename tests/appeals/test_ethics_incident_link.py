"""Incident-triggered ethics reviews name the incident that triggered them (and only they do)."""

import pytest

from accountability.exceptions import ValidationFailed
from accountability.models import EthicsReview
from tests.factories import UseCaseFactory
from tests.incidents.factories import IncidentFactory

from .factories import create_review

pytestmark = pytest.mark.django_db
BASE = "/api/v1/ai-accountability"


@pytest.fixture
def incident(project, use_case):
    incident = IncidentFactory(project=project, title="Screener denied eligible applicants")
    incident.use_cases.add(use_case)
    return incident


def test_incident_triggered_review_links_its_incident(use_case, staff_user, board, incident):
    review = create_review(staff_user, use_case, board, review_type="incident_triggered", incident=incident)
    assert review.incident == incident
    assert list(incident.ethics_reviews.all()) == [review]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "An incident-triggered review names the incident that triggered it."),
        ("unrelated", "does not affect"),
        ("foreign", "The incident belongs to another project."),
        ("wrong_type", "Only an incident-triggered review links an incident."),
    ],
)
def test_bad_incident_links_write_nothing(
    case, message, project, other_project, use_case, staff_user, board, incident, ledger_count
):
    kwargs = {"review_type": "incident_triggered", "incident": None}
    if case == "unrelated":
        kwargs["incident"] = IncidentFactory(project=project)
    elif case == "foreign":
        kwargs["incident"] = IncidentFactory(project=other_project)
    elif case == "wrong_type":
        kwargs = {"review_type": "periodic", "incident": incident}
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        create_review(staff_user, use_case, board, **kwargs)
    assert message in exc.value.errors["incident"][0]
    assert EthicsReview.objects.count() == 0
    assert ledger_count() == before


def test_api_takes_and_shows_the_incident(api, use_case, staff_user, board, incident, other_project):
    payload = {
        "use_case": use_case.public_id,
        "summary": "After the incident",
        "review_type": "incident_triggered",
        "board": [
            {"user": u.username, "discipline": d, "party": p}
            for u, d, p in zip(
                board,
                ["legal", "technical", "affected_community"],
                ["deployer", "deployer", "affected_community"],
                strict=True,
            )
        ],
    }
    client = api.as_user(staff_user)
    response = client.post(f"{BASE}/ethics-reviews/", {**payload, "incident": "INC-99999"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["incident"] == ["No incident 'INC-99999'."]
    foreign = IncidentFactory(project=other_project)
    response = client.post(f"{BASE}/ethics-reviews/", {**payload, "incident": foreign.public_id}, format="json")
    assert response.json()["errors"]["incident"] == [f"No incident '{foreign.public_id}'."]  # invisible = absent
    response = client.post(f"{BASE}/ethics-reviews/", {**payload, "incident": incident.public_id}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["incident"] == incident.public_id


def test_factory_use_case_is_unaffected(project):
    assert not IncidentFactory(project=project).use_cases.filter(pk=UseCaseFactory(project=project).pk).exists()
