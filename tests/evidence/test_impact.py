"""Impact assessments: sections A–G, independent review by a non-developer, signed risk acceptance,
versioning, and the weighted risk score with its classification boundaries."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.models import ImpactAssessment, Membership, Notification
from accountability.rules import evidence as rules
from accountability.services import evidence_impact as svc
from tests.factories import MembershipFactory, UseCaseFactory, UserFactory

from .factories import COMPLETE_IMPACT, SCORES, ImpactAssessmentFactory

pytestmark = pytest.mark.django_db
DIMENSIONS = ("rights", "affected_population", "data_sensitivity", "reversibility", "human_oversight", "bias")


def test_weighted_score_arithmetic():
    params = rules.score_parameters()
    assert params.weights == {
        "rights": Decimal("0.25"),
        "affected_population": Decimal("0.15"),
        "data_sensitivity": Decimal("0.2"),
        "reversibility": Decimal("0.15"),
        "human_oversight": Decimal("0.15"),
        "bias": Decimal("0.1"),
    }
    # 0.25*80 + 0.15*60 + 0.20*70 + 0.15*50 + 0.15*40 + 0.10*60 = 20 + 9 + 14 + 7.5 + 6 + 6 = 62.5
    assert rules.weighted_score(SCORES, params) == Decimal("62.50")
    assert rules.weighted_score(dict.fromkeys(DIMENSIONS, Decimal(100)), params) == Decimal("100.00")
    assert rules.weighted_score(dict.fromkeys(DIMENSIONS, Decimal(0)), params) == Decimal("0.00")
    one_hot = {**dict.fromkeys(DIMENSIONS, Decimal(0)), "rights": Decimal("33.33")}
    assert rules.weighted_score(one_hot, params) == Decimal("8.33")  # 8.3325 rounds half-up to 8.33


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("100", "high"),
        ("70", "high"),
        ("70.00", "high"),
        ("69.99", "medium"),
        ("40", "medium"),
        ("39.99", "low"),
        ("0", "low"),
    ],
)
def test_classification_boundaries(score, expected):
    assert rules.classify(Decimal(score), rules.score_parameters()) == expected


@pytest.mark.parametrize(
    ("uniform", "score", "klass"),
    [("69.99", "69.99", "medium"), ("70", "70.00", "high"), ("39.99", "39.99", "low"), ("40", "40.00", "medium")],
)
def test_scoring_service_at_the_boundaries(uniform, score, klass, staff_user, project):
    ia = ImpactAssessmentFactory(use_case__project=project)
    ia = svc.impact_assessment_score(actor=staff_user, assessment=ia, scores=dict.fromkeys(DIMENSIONS, uniform))
    assert (str(ia.risk_score), ia.risk_class) == (score, klass)
    assert ia.score_parameters["thresholds"] == {"high": "70", "medium": "40"}


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({**dict.fromkeys(DIMENSIONS, 50), "bias": 101}, "scores.bias"),
        ({**dict.fromkeys(DIMENSIONS, 50), "rights": -1}, "scores.rights"),
        ({**dict.fromkeys(DIMENSIONS, 50), "rights": "12.345"}, "scores.rights"),
        ({**dict.fromkeys(DIMENSIONS, 50), "rights": True}, "scores.rights"),
        ({k: 50 for k in DIMENSIONS if k != "reversibility"}, "scores.reversibility"),
        ({**dict.fromkeys(DIMENSIONS, 50), "vibes": 3}, "scores"),
    ],
)
def test_bad_scores_write_nothing(scores, field, staff_user, project, ledger_count):
    ia = ImpactAssessmentFactory(use_case__project=project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.impact_assessment_score(actor=staff_user, assessment=ia, scores=scores)
    assert list(exc.value.errors) == [field]
    ia.refresh_from_db()
    assert (ia.risk_score, ia.risk_class, ledger_count()) == (None, "", before)


def test_weights_must_sum_to_one(settings, tmp_path):
    from accountability.config import policy

    text = Path(settings.ICDEV_ACCOUNTABILITY_CONFIG).read_text(encoding="utf-8").replace("bias: 0.10", "bias: 0.20")
    (tmp_path / "policy.yaml").write_text(text)
    settings.ICDEV_ACCOUNTABILITY_CONFIG = tmp_path / "policy.yaml"
    policy.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match=r"must sum to 1, not 1\.10"):
            rules.score_parameters()
    finally:
        policy.cache_clear()


@pytest.fixture
def developer(project):
    user = UserFactory(username="dev")
    MembershipFactory(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


def full_cycle(staff_user, caio_user, reviewer_user, developer, uc):
    ia = svc.impact_assessment_create(actor=staff_user, use_case=uc, developers=[developer], **COMPLETE_IMPACT)
    svc.impact_assessment_score(actor=staff_user, assessment=ia, scores=SCORES)
    svc.impact_assessment_submit(actor=staff_user, assessment=ia)
    svc.impact_assessment_review(
        actor=reviewer_user, assessment=ia, comments="Adequate.", recommendation="concur", reviewer_office="OIG"
    )
    return svc.impact_assessment_accept_risk(
        actor=caio_user, assessment=ia, statement="I accept the residual risk.", acceptor_title="CAIO"
    )


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_full_cycle_a_to_g(staff_user, caio_user, reviewer_user, developer, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True, stage="pilot", involves_pii=True)
    before = ledger_count()
    ia = full_cycle(staff_user, caio_user, reviewer_user, developer, uc)
    assert (ia.status, ia.version, ia.risk_score, ia.risk_class) == ("accepted", 1, Decimal("62.50"), "medium")
    assert (ia.reviewer, ia.reviewer_office, ia.review_recommendation) == (reviewer_user, "OIG", "concur")
    assert (ia.risk_accepted_by, ia.risk_acceptor_title, ia.use_case_stage_at_acceptance) == (
        caio_user,
        "CAIO",
        "pilot",
    )
    assert ia.next_reassessment_due == dt.date(2027, 6, 1)
    assert list(ia.developers.all()) == [developer]
    assert ledger_count() == before + 5
    # The review's comments reach the risk acceptor (the CAIO).
    note = Notification.objects.get(recipient=caio_user, kind="impact_assessment.reviewed")
    assert "Adequate." in note.body
    assert rules.section_gaps(ia, involves_pii=True) == {k: [] for k in "ABCDEFG"}


def test_reviewer_must_not_be_a_developer_or_the_author(staff_user, reviewer_user, developer, project, ledger_count):
    ia = ImpactAssessmentFactory(use_case__project=project, scored=True, status="submitted", created_by=reviewer_user)
    ia.developers.set([developer])
    before = ledger_count()
    with pytest.raises(NotAllowed, match="listed among the system's developers"):
        svc.impact_assessment_review(actor=developer, assessment=ia, comments="Fine.", recommendation="concur")
    with pytest.raises(NotAllowed, match="author or submitter"):
        svc.impact_assessment_review(actor=reviewer_user, assessment=ia, comments="Fine.", recommendation="concur")
    ia.refresh_from_db()
    assert (ia.status, ia.reviewer, ia.reviewed_at, ledger_count()) == ("submitted", None, None, before)


def test_developers_must_be_project_members(staff_user, project, other_project):
    stranger = UserFactory(username="stranger")
    with pytest.raises(ValidationFailed, match="Not members of proj-123: stranger"):
        svc.impact_assessment_create(actor=staff_user, use_case=UseCaseFactory(project=project), developers=[stranger])
    assert ImpactAssessment.objects.count() == 0


def test_submission_needs_sections_a_to_e_and_a_score(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True, involves_pii=True)
    ia = svc.impact_assessment_create(actor=staff_user, use_case=uc, purpose_and_benefits="Faster.")
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.impact_assessment_submit(actor=staff_user, assessment=ia)
    assert sorted(exc.value.errors) == [
        "benefit_metrics",
        "costs",
        "data_quality",
        "mitigations",
        "pia_url",
        "protected_class_data",
        "reassessment_procedures",
        "rights_impacts",
        "scores",
    ]
    assert exc.value.errors["pia_url"] == [
        "Section C (Privacy, civil-rights and civil-liberties impacts and mitigations) needs this before review."
    ]
    ia.refresh_from_db()
    assert (ia.status, ia.reassessment_frequency_days, ledger_count()) == ("draft", 365, before)


def test_content_is_frozen_after_submission(staff_user, caio_user, project):
    ia = ImpactAssessmentFactory(use_case__project=project, scored=True, status="submitted")
    with pytest.raises(InvalidTransition, match="only a draft version can be edited"):
        svc.impact_assessment_update(actor=staff_user, assessment=ia, costs="Cheaper")
    with pytest.raises(InvalidTransition, match="only a draft version can be scored"):
        svc.impact_assessment_score(actor=staff_user, assessment=ia, scores=SCORES)
    with pytest.raises(InvalidTransition, match="only a reviewed version can be accepted"):
        svc.impact_assessment_accept_risk(actor=caio_user, assessment=ia, statement="s")


def test_risk_acceptance_rules(staff_user, caio_user, reviewer_user, board_user, project):
    official = UserFactory(username="official")
    MembershipFactory(project=project, user=official, role=Membership.Role.INCIDENT_RESPONDER)
    uc = UseCaseFactory(project=project, high_impact=True, responsible_official=official)
    ia = ImpactAssessmentFactory(use_case=uc, scored=True, status="submitted")
    svc.impact_assessment_review(
        actor=board_user, assessment=ia, comments="OK", recommendation="concur_with_conditions"
    )
    with pytest.raises(NotAllowed, match="Only the CAIO or the use case's responsible official"):
        svc.impact_assessment_accept_risk(actor=staff_user, assessment=ia, statement="s")
    with pytest.raises(ValidationFailed, match="statement"):
        svc.impact_assessment_accept_risk(actor=official, assessment=ia, statement=" ")
    ia = svc.impact_assessment_accept_risk(actor=official, assessment=ia, statement="Accepted with the conditions.")
    assert (ia.status, ia.risk_acceptor_name) == ("accepted", "official")


def test_the_reviewer_cannot_accept_the_risk(caio_user, project):
    ia = ImpactAssessmentFactory(use_case__project=project, scored=True, status="submitted")
    svc.impact_assessment_review(actor=caio_user, assessment=ia, comments="OK", recommendation="concur")
    with pytest.raises(NotAllowed, match="independent reviewer cannot also accept"):
        svc.impact_assessment_accept_risk(actor=caio_user, assessment=ia, statement="s")


def test_return_clears_the_review(staff_user, reviewer_user, project):
    ia = ImpactAssessmentFactory(use_case__project=project, scored=True, status="submitted")
    svc.impact_assessment_review(
        actor=reviewer_user, assessment=ia, comments="Section B is thin.", recommendation="do_not_concur"
    )
    ia = svc.impact_assessment_return(actor=reviewer_user, assessment=ia, reason="Expand section B.")
    assert (ia.status, ia.reviewer, ia.reviewed_at, ia.review_comments) == ("draft", None, None, "")
    assert ia.history.filter(review_comments="Section B is thin.").exists()  # history keeps the review
    with pytest.raises(InvalidTransition, match="only a submitted or reviewed version can be returned"):
        svc.impact_assessment_return(actor=staff_user, assessment=ia, reason="again")


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_new_version_supersedes_only_when_accepted(staff_user, caio_user, reviewer_user, developer, project):
    uc = UseCaseFactory(project=project, high_impact=True, stage="deployed")
    v1 = full_cycle(staff_user, caio_user, reviewer_user, developer, uc)
    assert v1.use_case_stage_at_acceptance == "deployed"  # completed after deployment: a check will flag it
    with pytest.raises(ValidationFailed, match="change_summary"):
        svc.impact_assessment_new_version(actor=staff_user, assessment=v1, change_summary="")
    v2 = svc.impact_assessment_new_version(
        actor=staff_user, assessment=v1, change_summary="Model retrained", costs="USD 150k"
    )
    assert (v2.version, v2.status, v2.costs, v2.risk_score, list(v2.developers.all())) == (
        2,
        "draft",
        "USD 150k",
        Decimal("62.50"),
        [developer],
    )
    with pytest.raises(Conflict, match=r"\(v2\) is still draft"):
        svc.impact_assessment_new_version(actor=staff_user, assessment=v1, change_summary="again")
    with pytest.raises(Conflict, match="insert a new version instead"):
        svc.impact_assessment_create(actor=staff_user, use_case=uc)
    v1.refresh_from_db()
    assert v1.status == "accepted"  # still the current assessment until v2 is accepted
    svc.impact_assessment_submit(actor=staff_user, assessment=v2)
    svc.impact_assessment_review(actor=reviewer_user, assessment=v2, comments="Fine.", recommendation="concur")
    svc.impact_assessment_accept_risk(actor=caio_user, assessment=v2, statement="Accepted.")
    v1.refresh_from_db()
    assert (v1.status, v1.costs, v1.superseded_at is not None) == ("superseded", COMPLETE_IMPACT["costs"], True)


def test_bad_benefit_metrics_and_unknown_fields(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project, high_impact=True)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.impact_assessment_create(actor=staff_user, use_case=uc, benefit_metrics=[{"name": "wait"}])
    assert exc.value.errors == {"benefit_metrics": ["item 1: name and target are required."]}
    with pytest.raises(ValidationFailed, match="Unknown field"):
        svc.impact_assessment_create(actor=staff_user, use_case=uc, risk_class="low")
    assert (ImpactAssessment.objects.count(), ledger_count()) == (0, before)
