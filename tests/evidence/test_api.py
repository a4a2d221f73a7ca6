"""The evidence API: scoped lists with filters, creation and lifecycle actions through the services,
400 with field errors and nothing written on bad input, 404 for other projects, 403 by role."""

import datetime as dt

import pytest
import time_machine

from accountability.models import (
    ConfabulationCheck,
    FairnessAssessment,
    FeedbackItem,
    ImpactAssessment,
    ModelCard,
    MonitoringObservation,
    ProvenanceRecord,
    Waiver,
)
from tests.factories import CAIODesignationFactory, UseCaseFactory

from .factories import (
    COMPLETE_IMPACT,
    ConfabulationCheckFactory,
    ContentTracingPolicyFactory,
    FairnessAssessmentFactory,
    FeedbackChannelFactory,
    FeedbackItemFactory,
    ImpactAssessmentFactory,
    ModelCardFactory,
    MonitoringPlanFactory,
    OperatorTrainingFactory,
    VendorArtefactsFactory,
    WaiverFactory,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/ai-accountability"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(dt.datetime(2026, 4, 1, 15, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


FACTORIES = {
    "model-cards": lambda p: ModelCardFactory(use_case__project=p),
    "vendor-artefacts": lambda p: VendorArtefactsFactory(use_case__project=p),
    "fairness-assessments": lambda p: FairnessAssessmentFactory(use_case__project=p),
    "confabulation-checks": lambda p: ConfabulationCheckFactory(use_case__project=p),
    "content-tracing-policies": lambda p: ContentTracingPolicyFactory(project=p),
    "monitoring-plans": lambda p: MonitoringPlanFactory(use_case__project=p),
    "impact-assessments": lambda p: ImpactAssessmentFactory(use_case__project=p),
    "waivers": lambda p: WaiverFactory(use_case__project=p),
    "feedback-channels": lambda p: FeedbackChannelFactory(use_case__project=p),
    "feedback-items": lambda p: FeedbackItemFactory(channel__use_case__project=p),
    "operator-training": lambda p: OperatorTrainingFactory(use_case__project=p),
}


@pytest.mark.parametrize("endpoint", sorted(FACTORIES))
def test_lists_are_scoped_and_rows_of_other_projects_are_not_found(
    endpoint, api, auditor_user, outsider, project, other_project
):
    mine, theirs = FACTORIES[endpoint](project), FACTORIES[endpoint](other_project)
    client = api.as_user(auditor_user)
    body = client.get(f"{BASE}/{endpoint}/").json()
    assert [row["id"] for row in body["results"]] == [mine.public_id]
    assert client.get(f"{BASE}/{endpoint}/", {"project": "proj-999"}).json()["count"] == 0
    detail = client.get(f"{BASE}/{endpoint}/{mine.public_id}/")
    assert (detail.status_code, detail.json()["id"]) == (200, mine.public_id)
    assert client.get(f"{BASE}/{endpoint}/{theirs.public_id}/").status_code == 404
    history = client.get(f"{BASE}/{endpoint}/{mine.public_id}/history/").json()
    assert (history["count"], history["results"][0]["type"]) == (1, "created")
    assert api.as_user(outsider).get(f"{BASE}/{endpoint}/{mine.public_id}/").status_code == 404


def test_filters(api, auditor_user, project):
    uc = UseCaseFactory(project=project)
    FairnessAssessmentFactory(use_case=uc, performed_on=dt.date(2026, 1, 10))
    stale = FairnessAssessmentFactory(
        use_case=uc, performed_on=dt.date(2025, 6, 1), overall_result="fail", breach_count=1
    )
    FairnessAssessmentFactory(use_case__project=project, performed_on=dt.date(2026, 3, 1))
    client = api.as_user(auditor_user)

    def ids(**params):
        return [r["id"] for r in client.get(f"{BASE}/fairness-assessments/", params).json()["results"]]

    assert len(ids(use_case=uc.public_id)) == 2
    assert ids(use_case=uc.public_id, until="2025-12-31") == [stale.public_id]
    assert ids(overall_result="fail") == [stale.public_id]
    assert ids(due_before="2025-12-01") == [stale.public_id]
    assert ids(use_case="garbage") == []
    waiver = WaiverFactory(use_case__project=project, grant_omb_report_due=dt.date(2026, 3, 31))
    assert [r["id"] for r in client.get(f"{BASE}/waivers/", {"omb_report_overdue": "true"}).json()["results"]] == [
        waiver.public_id
    ]
    assert client.get(f"{BASE}/waivers/", {"status": "revoked"}).json()["count"] == 0
    assert client.get(f"{BASE}/waivers/", {"practice": "public_consultation"}).json()["count"] == 1


def test_model_card_lifecycle(api, staff_user, caio_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    response = api.as_user(staff_user).post(
        f"{BASE}/model-cards/",
        {"use_case": uc.public_id, "model_name": "screener-gbm", "model_version": "2.1", "intended_use": "Rank."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    card = response.json()
    assert (card["status"], card["completeness"]["complete"], card["created_by"]) == ("draft", False, "staff")
    response = api.as_user(caio_user).post(f"{BASE}/model-cards/{card['id']}/publish/")
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == [
        "contact",
        "ethical_considerations",
        "evaluation",
        "limitations",
        "training_data",
    ]
    fields = {
        "limitations": "L",
        "training_data": "T",
        "evaluation": "E",
        "ethical_considerations": "X",
        "contact": "C",
    }
    assert api.as_user(staff_user).patch(f"{BASE}/model-cards/{card['id']}/", fields, format="json").status_code == 200
    assert api.as_user(staff_user).post(f"{BASE}/model-cards/{card['id']}/publish/").status_code == 403
    response = api.as_user(caio_user).post(f"{BASE}/model-cards/{card['id']}/publish/")
    assert (response.status_code, response.json()["status"], response.json()["published_by"]) == (
        200,
        "published",
        "caio",
    )
    response = api.as_user(staff_user).post(
        f"{BASE}/model-cards/{card['id']}/new-version/",
        {"change_summary": "Retrained", "model_version": "2.2"},
        format="json",
    )
    assert (response.status_code, response.json()["version"]) == (201, 2)
    response = api.as_user(staff_user).patch(f"{BASE}/model-cards/{card['id']}/", {"limitations": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert ledger_count() == before + 4


BAD_INPUT = [
    (
        "model-cards",
        lambda uc: {"use_case": uc.public_id, "model_name": "", "model_version": "1"},
        ModelCard,
        "model_name",
    ),
    (
        "model-cards",
        lambda uc: {"use_case": "UC-99999", "model_name": "m", "model_version": "1"},
        ModelCard,
        "use_case",
    ),
    (
        "fairness-assessments",
        lambda uc: {
            "use_case": uc.public_id,
            "model_name": "m",
            "model_version": "1",
            "performed_on": "2026-03-01",
            "method": "x",
            "metrics": [{"group": "g", "metric": "nope", "value": 1, "threshold": 1}],
        },
        FairnessAssessment,
        "metrics",
    ),
    (
        "fairness-assessments",
        lambda uc: {
            "use_case": uc.public_id,
            "model_name": "m",
            "model_version": "1",
            "performed_on": "soon",
            "method": "x",
            "metrics": [],
        },
        FairnessAssessment,
        "performed_on",
    ),
    (
        "confabulation-checks",
        lambda uc: {
            "use_case": uc.public_id,
            "model_name": "m",
            "model_version": "1",
            "checked_on": "2026-03-01",
            "method": "x",
            "sample_size": 5,
            "errors_found": 6,
            "checks_citations": True,
        },
        ConfabulationCheck,
        "errors_found",
    ),
    (
        "provenance-records",
        lambda uc: {
            "use_case": uc.public_id,
            "trace_id": "0" * 32,
            "data_sources": ["d"],
            "model_name": "m",
            "model_version": "1",
            "output_reference": "o",
        },
        ProvenanceRecord,
        "trace_id",
    ),
    (
        "impact-assessments",
        lambda uc: {"use_case": uc.public_id, "benefit_metrics": [{"name": "x"}]},
        ImpactAssessment,
        "benefit_metrics",
    ),
    (
        "impact-assessments",
        lambda uc: {"use_case": uc.public_id, "developers": ["ghost"]},
        ImpactAssessment,
        "developers.0",
    ),
    (
        "waivers",
        lambda uc: {
            "use_case": uc.public_id,
            "practices": ["testing"],
            "basis": "increases_risk",
            "determination": "",
            "risk_assessment": "r",
        },
        Waiver,
        "determination",
    ),
    (
        "feedback-items",
        lambda uc: {"channel": "FBC-99999", "category": "error", "summary": "s"},
        FeedbackItem,
        "channel",
    ),
]


@pytest.mark.parametrize(("endpoint", "payload", "model", "field"), BAD_INPUT)
def test_bad_input_is_400_with_field_errors_and_writes_nothing(
    endpoint, payload, model, field, api, staff_user, caio_user, project, ledger_count
):
    CAIODesignationFactory(project=project, official=caio_user)
    uc = UseCaseFactory(project=project, high_impact=True, is_generative=True)
    user = caio_user if endpoint == "waivers" else staff_user
    before, rows = ledger_count(), model.objects.count()
    response = api.as_user(user).post(f"{BASE}/{endpoint}/", payload(uc), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["code"], body["detail"]) == ("invalid", "Invalid input.")
    assert field in body["errors"], body
    assert (model.objects.count(), ledger_count()) == (rows, before)


def test_provenance_and_chain_endpoints(api, staff_user, auditor_user, project):
    uc = UseCaseFactory(project=project)
    client = api.as_user(staff_user)
    payload = {
        "use_case": uc.public_id,
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "data_sources": ["applications-2026"],
        "model_name": "screener-gbm",
        "model_version": "2.1",
        "output_reference": "case://1",
        "generated_at": "2026-04-01T10:00:00Z",
    }
    first = client.post(f"{BASE}/provenance-records/", payload, format="json").json()
    second = client.post(
        f"{BASE}/provenance-records/", {**payload, "output_reference": "case://2"}, format="json"
    ).json()
    assert (first["sequence"], second["previous_hash"], second["chain_status"]) == (1, first["record_hash"], "verified")
    assert first["ledger_entry_id"].startswith("LED-")
    chain = api.as_user(auditor_user).get(f"{BASE}/provenance-records/chain/", {"use_case": uc.public_id}).json()
    assert (chain["total"], chain["verified"], chain["percent_verifiable"]) == (2, 2, 100.0)
    assert (
        api.as_user(auditor_user)
        .post(f"{BASE}/provenance-records/verify/", {"use_case": uc.public_id}, format="json")
        .status_code
        == 403
    )
    client = api.as_user(staff_user)  # the client was re-authenticated as the auditor above
    assert (
        client.post(f"{BASE}/provenance-records/verify/", {"use_case": uc.public_id}, format="json").json()["verified"]
        == 2
    )
    assert client.get(f"{BASE}/provenance-records/chain/").json()["errors"] == {
        "use_case": ["This query parameter is required."]
    }
    assert client.get(f"{BASE}/provenance-records/", {"trace_id": payload["trace_id"]}).json()["count"] == 2


def test_impact_assessment_endpoints(api, staff_user, caio_user, reviewer_user, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True)
    client = api.as_user(staff_user)
    ia = client.post(f"{BASE}/impact-assessments/", {"use_case": uc.public_id, **COMPLETE_IMPACT}, format="json").json()
    url = f"{BASE}/impact-assessments/{ia['id']}"
    assert client.get(f"{url}/score/").json() == {"id": ia["id"], "scored": False, "score": None}
    bad = client.post(f"{url}/score/", {"scores": {"rights": 101}}, format="json")
    assert (bad.status_code, sorted(bad.json()["errors"])[:2]) == (400, ["scores.affected_population", "scores.bias"])
    scores = {
        "rights": 90,
        "affected_population": 70,
        "data_sensitivity": 80,
        "reversibility": 60,
        "human_oversight": 50,
        "bias": 40,
    }
    score = client.post(f"{url}/score/", {"scores": scores}, format="json").json()["score"]
    # 22.5 + 10.5 + 16 + 9 + 7.5 + 4 = 69.5
    assert (score["risk_score"], score["risk_class"], score["dimensions"]["rights"]["contribution"]) == (
        "69.50",
        "medium",
        "22.5000",
    )
    assert client.post(f"{url}/submit/").json()["status"] == "submitted"
    review = {"comments": "Sound.", "recommendation": "concur"}
    assert client.post(f"{url}/review/", review, format="json").status_code == 403  # the author cannot review
    assert api.as_user(reviewer_user).post(f"{url}/review/", review, format="json").json()["reviewer"] == "reviewer"
    assert client.post(f"{url}/accept-risk/", {"statement": "ok"}, format="json").status_code == 403
    signed = (
        api.as_user(caio_user)
        .post(f"{url}/accept-risk/", {"statement": "I accept.", "acceptor_title": "CAIO"}, format="json")
        .json()
    )
    assert (signed["status"], signed["risk_accepted_by"], signed["next_reassessment_due"]) == (
        "accepted",
        "caio",
        "2027-04-01",
    )
    report = client.get(f"{BASE}/impact-assessments/report/", {"use_case": uc.public_id}).json()
    assert (report["risk_class"], report["missing_sections"], report["determination_agrees"]) == ("medium", [], False)
    assert ledger_count() >= 5


def test_waiver_endpoints(clock, api, staff_user, caio_user, project):
    CAIODesignationFactory(project=project, official=caio_user)
    uc = UseCaseFactory(project=project, high_impact=True)
    payload = {
        "use_case": uc.public_id,
        "practices": ["testing"],
        "basis": "increases_risk",
        "determination": "d",
        "risk_assessment": "r",
    }
    assert api.as_user(staff_user).post(f"{BASE}/waivers/", payload, format="json").status_code == 403
    waiver = api.as_user(caio_user).post(f"{BASE}/waivers/", payload, format="json").json()
    assert (waiver["status"], waiver["practices"], waiver["grant_omb_report_due"], waiver["omb_report_overdue"]) == (
        "active",
        ["testing"],
        "2026-05-01",
        False,
    )
    url = f"{BASE}/waivers/{waiver['id']}"
    clock.move_to(dt.datetime(2026, 5, 2, 15, tzinfo=dt.UTC))
    assert api.as_user(staff_user).get(f"{url}/").json()["omb_report_overdue"] is True
    reported = (
        api.as_user(staff_user)
        .post(f"{url}/omb-report/", {"event": "grant", "reported_on": "2026-05-02"}, format="json")
        .json()
    )
    assert (reported["grant_reported_to_omb_on"], reported["omb_report_overdue"]) == ("2026-05-02", False)
    recert = api.as_user(caio_user).post(f"{url}/recertify/", {"note": "Still needed."}, format="json").json()
    assert recert["next_recertification_due"] == "2027-05-02"
    revoked = api.as_user(caio_user).post(f"{url}/revoke/", {"reason": "Testing done"}, format="json").json()
    assert (revoked["status"], revoked["revocation_omb_report_due"]) == ("revoked", "2026-06-01")
    again = api.as_user(caio_user).post(f"{url}/revoke/", {"reason": "x"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")


def test_feedback_monitoring_and_training_endpoints(api, staff_user, auditor_user, project):
    uc = UseCaseFactory(project=project)
    client = api.as_user(staff_user)
    channel = client.post(
        f"{BASE}/feedback-channels/",
        {"use_case": uc.public_id, "name": "Web form", "method": "web_form", "url": "https://a.gov/f"},
        format="json",
    ).json()
    item = client.post(
        f"{BASE}/feedback-items/", {"channel": channel["id"], "category": "bias", "summary": "Unfair."}, format="json"
    ).json()
    assert (item["status"], item["triage_due_at"]) == ("received", "2026-05-01T11:00:00-04:00")
    triaged = client.post(
        f"{BASE}/feedback-items/{item['id']}/triage/",
        {"outcome": "referred_appeal", "note": "APL-00003"},
        format="json",
    ).json()
    assert (triaged["status"], triaged["outcome"], triaged["triaged_by"]) == ("triaged", "referred_appeal", "staff")
    assert (
        api.as_user(auditor_user)
        .post(f"{BASE}/feedback-items/{item['id']}/triage/", {"outcome": "no_action"}, format="json")
        .status_code
        == 403
    )

    client = api.as_user(staff_user)  # the client was re-authenticated as the auditor above
    plan = client.post(
        f"{BASE}/monitoring-plans/",
        {
            "use_case": uc.public_id,
            "name": "Monthly",
            "metrics": [{"name": "accuracy", "threshold": 0.9, "comparison": "at_least"}],
            "frequency_days": 30,
            "starts_on": "2026-03-01",
        },
        format="json",
    ).json()
    response = client.post(
        f"{BASE}/monitoring-plans/{plan['id']}/observations/",
        {"observed_on": "2026-03-31", "metric_values": {"accuracy": 0.8}},
        format="json",
    )
    assert (response.status_code, list(response.json()["errors"])) == (400, ["corrective_action"])
    assert MonitoringObservation.objects.count() == 0
    obs = client.post(
        f"{BASE}/monitoring-plans/{plan['id']}/observations/",
        {"observed_on": "2026-03-31", "metric_values": {"accuracy": 0.8}, "corrective_action": "Retrain."},
        format="json",
    ).json()
    assert (obs["within_threshold"], obs["breach_count"]) == (False, 1)
    listing = client.get(f"{BASE}/monitoring-plans/{plan['id']}/observations/").json()
    assert [o["id"] for o in listing["results"]] == [obs["id"]]
    assert client.get(f"{BASE}/monitoring-plans/{plan['id']}/").json()["next_observation_due"] == "2026-04-30"
    assert client.get(f"{BASE}/monitoring-observations/", {"within_threshold": "false"}).json()["count"] == 1

    training = client.post(
        f"{BASE}/operator-training/",
        {"use_case": uc.public_id, "operator": "auditor", "course": "Ops", "completed_on": "2026-03-15"},
        format="json",
    ).json()
    assert (training["operator"], training["operator_name"], training["expires_on"]) == (
        "auditor",
        "auditor",
        "2027-03-15",
    )
    assert client.get(f"{BASE}/operator-training/", {"expires_before": "2027-01-01"}).json()["count"] == 0


def test_content_tracing_policy_endpoints(api, staff_user, caio_user, project):
    response = api.as_user(staff_user).post(
        f"{BASE}/content-tracing-policies/",
        {
            "project": "proj-123",
            "title": "Tracing",
            "owner": "staff",
            "scope": "All outputs",
            "retention_days": 365,
            "review_due_on": "2027-01-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    policy = response.json()
    assert api.as_user(staff_user).get(f"{BASE}/content-tracing-policies/current/", {"project": "proj-123"}).json() == {
        "project": "proj-123",
        "current": None,
    }
    approved = api.as_user(caio_user).post(f"{BASE}/content-tracing-policies/{policy['id']}/approve/").json()
    assert (approved["status"], approved["approved_by"]) == ("approved", "caio")
    current = api.as_user(staff_user).get(f"{BASE}/content-tracing-policies/current/", {"project": "proj-123"}).json()
    assert current["current"]["id"] == policy["id"]
