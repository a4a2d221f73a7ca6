"""The evidence admin: scoped lists and detail pages, service-backed add forms with field errors, lifecycle
buttons, read-only evidence and the history permission."""

import datetime as dt

import pytest
from django.urls import reverse

from accountability.models import FairnessAssessment, ImpactAssessment, ModelCard, Waiver
from tests.factories import CAIODesignationFactory, UseCaseFactory

from .factories import (
    ConfabulationCheckFactory,
    ContentTracingPolicyFactory,
    FairnessAssessmentFactory,
    FairnessMetricFactory,
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


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


ROWS = {
    "modelcard": lambda p: ModelCardFactory(use_case__project=p),
    "vendorartefacts": lambda p: VendorArtefactsFactory(use_case__project=p),
    "fairnessassessment": lambda p: FairnessMetricFactory(assessment__use_case__project=p).assessment,
    "confabulationcheck": lambda p: ConfabulationCheckFactory(use_case__project=p),
    "contenttracingpolicy": lambda p: ContentTracingPolicyFactory(project=p),
    "monitoringplan": lambda p: MonitoringPlanFactory(use_case__project=p),
    "impactassessment": lambda p: ImpactAssessmentFactory(use_case__project=p, scored=True),
    "waiver": lambda p: WaiverFactory(use_case__project=p),
    "feedbackchannel": lambda p: FeedbackChannelFactory(use_case__project=p),
    "feedbackitem": lambda p: FeedbackItemFactory(channel__use_case__project=p),
    "operatortraining": lambda p: OperatorTrainingFactory(use_case__project=p),
}


@pytest.mark.parametrize("model", sorted(ROWS))
def test_lists_and_detail_pages_are_scoped(model, login, staff_user, outsider, project, other_project):
    mine, theirs = ROWS[model](project), ROWS[model](other_project)
    client = login(staff_user)
    page = client.get(reverse(f"admin:accountability_{model}_changelist"))
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [mine.pk]
    assert client.get(reverse(f"admin:accountability_{model}_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse(f"admin:accountability_{model}_change", args=[theirs.pk])).status_code == 302
    assert client.get(reverse(f"admin:accountability_{model}_delete", args=[mine.pk])).status_code == 403


def test_recorded_evidence_is_read_only_drafts_are_editable(login, staff_user, project):
    client = login(staff_user)
    fairness = FairnessAssessmentFactory(use_case__project=project)
    page = client.get(reverse("admin:accountability_fairnessassessment_change", args=[fairness.pk]))
    assert page.context["has_change_permission"] is False
    draft = ModelCardFactory(use_case__project=project)
    published = ModelCardFactory(use_case__project=project, model_name="other", published=True)
    assert client.get(reverse("admin:accountability_modelcard_change", args=[draft.pk])).context[
        "has_change_permission"
    ]
    page = client.get(reverse("admin:accountability_modelcard_change", args=[published.pk]))
    assert page.context["has_change_permission"] is False


def test_add_fairness_assessment_through_the_service(login, staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    url = reverse("admin:accountability_fairnessassessment_add")
    data = {
        "use_case": uc.pk,
        "model_name": "screener-gbm",
        "model_version": "2.1",
        "performed_on": "2026-01-10",
        "method": "Disaggregated evaluation",
        "metrics": '[{"group": "age 65+", "metric": "nope", "value": 1, "threshold": 1}]',
    }
    before = ledger_count()
    page = login(staff_user).post(url, data)
    assert page.status_code == 200
    assert "item 1: metric must be one of" in page.content.decode()
    assert (FairnessAssessment.objects.count(), ledger_count()) == (0, before)
    data["metrics"] = '[{"group": "age 65+", "metric": "demographic_parity_ratio", "value": 0.7, "threshold": 0.8}]'
    page = login(staff_user).post(url, data)
    assert page.status_code == 302, page.content.decode()[:3000]
    fa = FairnessAssessment.objects.get()
    assert (fa.overall_result, fa.breach_count, fa.created_by, ledger_count()) == ("fail", 1, staff_user, before + 1)


def test_model_card_buttons(login, staff_user, caio_user, project):
    card = ModelCardFactory(use_case__project=project, created_by=staff_user)
    publish = reverse("admin:accountability_modelcard_object_action", args=[card.pk, "publish"])
    assert (
        publish
        in login(staff_user).get(reverse("admin:accountability_modelcard_change", args=[card.pk])).content.decode()
    )
    assert "Separation of duties" in login(staff_user).post(publish, {"confirm": "on"}).content.decode()
    assert login(caio_user).post(publish, {"confirm": "on"}).status_code == 302
    new_version = reverse("admin:accountability_modelcard_object_action", args=[card.pk, "new_version"])
    assert (
        login(staff_user).post(new_version, {"change_summary": "Retrained", "model_version": "2.2"}).status_code == 302
    )
    assert list(ModelCard.objects.order_by("version").values_list("version", "status", "model_version")) == [
        (1, "published", "2.1"),
        (2, "draft", "2.2"),
    ]


def test_impact_assessment_buttons(login, staff_user, caio_user, project):
    from tests.conftest import _member

    reviewer_user = _member(project, "staffreviewer", "reviewer", staff=True)
    ia = ImpactAssessmentFactory(use_case__project=project)
    client = login(staff_user)
    score = reverse("admin:accountability_impactassessment_object_action", args=[ia.pk, "score"])
    values = {
        "rights": 70,
        "affected_population": 70,
        "data_sensitivity": 70,
        "reversibility": 70,
        "human_oversight": 70,
        "bias": 70,
    }
    assert client.post(score, values).status_code == 302
    ia.refresh_from_db()
    assert (str(ia.risk_score), ia.risk_class) == ("70.00", "high")
    assert (
        client.post(
            reverse("admin:accountability_impactassessment_object_action", args=[ia.pk, "submit"]), {"confirm": "on"}
        ).status_code
        == 302
    )
    review = reverse("admin:accountability_impactassessment_object_action", args=[ia.pk, "review"])
    assert login(reviewer_user).post(review, {"recommendation": "concur", "comments": "Fine."}).status_code == 302
    accept = reverse("admin:accountability_impactassessment_object_action", args=[ia.pk, "accept_risk"])
    assert "Only the CAIO" in login(staff_user).post(accept, {"statement": "ok"}).content.decode()
    page = login(caio_user).post(accept, {"statement": "I accept."})
    assert page.status_code == 302, [str(e) for e in page.context["form"].errors.values()]
    ia.refresh_from_db()
    assert ia.status == "accepted"
    page = login(staff_user).get(reverse("admin:accountability_impactassessment_change", args=[ia.pk])).content.decode()
    assert "G Signed risk acceptance: complete" in page


def test_waiver_issue_and_recertify_only_by_the_active_caio(login, staff_user, caio_user, project):
    CAIODesignationFactory(project=project, official=caio_user)
    uc = UseCaseFactory(project=project, high_impact=True)
    url = reverse("admin:accountability_waiver_add")
    data = {
        "use_case": uc.pk,
        "practices": ["testing"],
        "basis": "increases_risk",
        "determination": "D",
        "risk_assessment": "R",
    }
    assert login(staff_user).get(url).status_code == 403  # governance staff have no waiver authority
    page = login(caio_user).post(url, data)
    assert page.status_code == 302, page.content.decode()[:3000]
    waiver = Waiver.objects.get()
    recertify = reverse("admin:accountability_waiver_object_action", args=[waiver.pk, "recertify"])
    assert "Only the project" in login(staff_user).post(recertify, {"note": "n"}).content.decode()
    omb = reverse("admin:accountability_waiver_object_action", args=[waiver.pk, "omb"])
    today = dt.date.today().isoformat()
    assert login(staff_user).post(omb, {"event": "grant", "reported_on": today}).status_code == 302
    page = login(staff_user).get(reverse("admin:accountability_waiver_changelist"), {"omb_overdue": "no"})
    assert [w.pk for w in page.context["cl"].result_list] == [waiver.pk]


def test_feedback_triage_button(login, staff_user, project):
    item = FeedbackItemFactory(channel__use_case__project=project)
    url = reverse("admin:accountability_feedbackitem_object_action", args=[item.pk, "triage"])
    assert "note" in login(staff_user).post(url, {"outcome": "escalated_incident"}).content.decode()
    assert login(staff_user).post(url, {"outcome": "escalated_incident", "note": "INC-00001"}).status_code == 302
    item.refresh_from_db()
    assert (item.status, item.outcome) == ("triaged", "escalated_incident")


def test_history_needs_the_history_permission(login, auditor_user, project):
    from tests.conftest import _member

    board_staff = _member(project, "boardstaff", "ethics_board", staff=True)
    ia = ImpactAssessmentFactory(use_case__project=project)
    url = reverse("admin:accountability_impactassessment_history", args=[ia.pk])
    assert login(auditor_user).get(url).status_code == 200
    assert login(board_staff).get(url).status_code == 403
    assert ImpactAssessment.objects.count() == 1
