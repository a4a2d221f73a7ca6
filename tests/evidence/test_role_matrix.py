"""Every evidence write against every role: allowed roles succeed and write a ledger entry; everyone else
is refused (another project's user as not found), and a refusal changes no row, no history and no ledger."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import pytest

from accountability.exceptions import NotAllowed
from accountability.models import Membership
from accountability.services import evidence_cards as cards
from accountability.services import evidence_feedback as feedback
from accountability.services import evidence_impact as impact
from accountability.services import evidence_measures as measures
from accountability.services import evidence_tracing as tracing
from accountability.services import evidence_waivers as waivers
from tests.accountability.test_role_matrix import PERSONAS, snapshot
from tests.factories import CAIODesignationFactory, UseCaseFactory, UserFactory
from tests.role_writes import assert_write_obeys_roles

from .factories import (
    COMPLETE_IMPACT,
    SCORES,
    ConfabulationCheckFactory,
    ContentTracingPolicyFactory,
    FairnessAssessmentFactory,
    FeedbackChannelFactory,
    FeedbackItemFactory,
    ImpactAssessmentFactory,
    ModelCardFactory,
    MonitoringPlanFactory,
    VendorArtefactsFactory,
    WaiverFactory,
)

EDITORS = {"governance_staff", "caio"}
REVIEWERS = {"governance_staff", "caio", "reviewer", "ethics_board"}
CAIO_ONLY = {"caio"}


class World:
    """Objects of ``project`` built on first use, so each operation creates only what it touches."""

    def __init__(self, project, caio_user):
        self.project, self.caio_user = project, caio_user

    @cached_property
    def author(self):
        user = UserFactory(username="author")
        Membership.objects.create(project=self.project, user=user, role=Membership.Role.GOVERNANCE_STAFF)
        return user

    @cached_property
    def use_case(self):
        return UseCaseFactory(project=self.project, high_impact=True, is_generative=True, is_llm_procured=True)

    @cached_property
    def draft_card(self):
        return ModelCardFactory(use_case=self.use_case, created_by=self.author)

    @cached_property
    def published_card(self):
        return ModelCardFactory(use_case=self.use_case, model_name="other", published=True)

    @cached_property
    def artefacts(self):
        return VendorArtefactsFactory(use_case=self.use_case)

    @cached_property
    def plan(self):
        return MonitoringPlanFactory(use_case=self.use_case, starts_on=dt.date(2025, 1, 1))

    @cached_property
    def policy_draft(self):
        return ContentTracingPolicyFactory(project=self.project, created_by=self.author)

    def assessment(self, status):
        done = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        extra = {}
        if status in ("reviewed", "accepted", "superseded"):
            extra.update(reviewer=self.author, reviewed_at=done, review_comments="OK", review_recommendation="concur")
        if status in ("accepted", "superseded"):
            extra.update(risk_accepted_at=done, risk_acceptor_name="CAIO")
        return ImpactAssessmentFactory(
            use_case=self.use_case, scored=True, status=status, created_by=self.author, **extra
        )

    @cached_property
    def waiver(self):
        designation = CAIODesignationFactory(project=self.project, official=self.caio_user)
        return WaiverFactory(use_case=self.use_case, caio_designation=designation, issued_by=self.caio_user)

    @cached_property
    def channel(self):
        return FeedbackChannelFactory(use_case=self.use_case)


@pytest.fixture
def world(project, caio_user):
    return World(project, caio_user)


TODAY = dt.date(2026, 1, 10)

WRITES = {
    "model_card_create": (
        EDITORS,
        lambda w, a: cards.model_card_create(actor=a, use_case=w.use_case, model_name="m", model_version="1"),
    ),
    "model_card_update_draft": (
        EDITORS,
        lambda w, a: cards.model_card_update_draft(actor=a, card=w.draft_card, limitations="New"),
    ),
    "model_card_new_version": (
        EDITORS,
        lambda w, a: cards.model_card_new_version(actor=a, card=w.published_card, change_summary="c", evaluation="E2"),
    ),
    "model_card_publish": (EDITORS, lambda w, a: cards.model_card_publish(actor=a, card=w.draft_card)),
    "model_card_discard": (EDITORS, lambda w, a: cards.model_card_discard(actor=a, card=w.draft_card, reason="r")),
    "vendor_artefacts_record": (
        EDITORS,
        lambda w, a: cards.vendor_artefacts_record(actor=a, use_case=w.use_case, vendor_name="V"),
    ),
    "vendor_artefacts_review_card": (
        EDITORS,
        lambda w, a: cards.vendor_artefacts_review_card(actor=a, artefacts=w.artefacts, notes="n"),
    ),
    "fairness_assessment_record": (
        EDITORS,
        lambda w, a: measures.fairness_assessment_record(
            actor=a,
            use_case=w.use_case,
            model_name="m",
            model_version="1",
            performed_on=TODAY,
            method="x",
            metrics=[{"group": "g", "metric": "accuracy_difference", "value": 0, "threshold": 0.1}],
        ),
    ),
    "fairness_assessment_retract": (
        EDITORS,
        lambda w, a: measures.fairness_assessment_retract(
            actor=a, assessment=FairnessAssessmentFactory(use_case=w.use_case), reason="r"
        ),
    ),
    "confabulation_check_record": (
        EDITORS,
        lambda w, a: measures.confabulation_check_record(
            actor=a,
            use_case=w.use_case,
            model_name="m",
            model_version="1",
            checked_on=TODAY,
            method="x",
            sample_size=10,
            errors_found=0,
            checks_factual_claims=True,
        ),
    ),
    "confabulation_check_retract": (
        EDITORS,
        lambda w, a: measures.confabulation_check_retract(
            actor=a, check=ConfabulationCheckFactory(use_case=w.use_case), reason="r"
        ),
    ),
    "monitoring_plan_create": (
        EDITORS,
        lambda w, a: measures.monitoring_plan_create(
            actor=a,
            use_case=w.use_case,
            name="p",
            metrics=[{"name": "acc", "threshold": 0.8, "comparison": "at_least"}],
            frequency_days=30,
        ),
    ),
    "monitoring_plan_update": (
        EDITORS,
        lambda w, a: measures.monitoring_plan_update(actor=a, plan=w.plan, frequency_days=7),
    ),
    "monitoring_plan_retire": (EDITORS, lambda w, a: measures.monitoring_plan_retire(actor=a, plan=w.plan, reason="r")),
    "monitoring_observation_record": (
        EDITORS,
        lambda w, a: measures.monitoring_observation_record(
            actor=a, plan=w.plan, observed_on=TODAY, metric_values={"accuracy": 0.9, "override_rate": 0.01}
        ),
    ),
    "operator_training_record": (
        EDITORS,
        lambda w, a: measures.operator_training_record(
            actor=a, use_case=w.use_case, operator_name="Op", course="c", completed_on=TODAY
        ),
    ),
    "provenance_record_create": (
        EDITORS,
        lambda w, a: tracing.provenance_record_create(
            actor=a,
            use_case=w.use_case,
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
            data_sources=["d"],
            model_name="m",
            model_version="1",
            output_reference="o",
        ),
    ),
    "provenance_verify_chain": (EDITORS, lambda w, a: tracing.provenance_verify_chain(actor=a, use_case=w.use_case)),
    "content_tracing_policy_propose": (
        EDITORS,
        lambda w, a: tracing.content_tracing_policy_propose(
            actor=a,
            project=w.project,
            title="t",
            owner_name="o",
            scope="s",
            retention_days=365,
            review_due_on=dt.date(2030, 1, 1),
        ),
    ),
    "content_tracing_policy_approve": (
        EDITORS,
        lambda w, a: tracing.content_tracing_policy_approve(actor=a, policy_version=w.policy_draft),
    ),
    "content_tracing_policy_discard": (
        EDITORS,
        lambda w, a: tracing.content_tracing_policy_discard(actor=a, policy_version=w.policy_draft, reason="r"),
    ),
    "impact_assessment_create": (
        EDITORS,
        lambda w, a: impact.impact_assessment_create(actor=a, use_case=w.use_case, **COMPLETE_IMPACT),
    ),
    "impact_assessment_update": (
        EDITORS,
        lambda w, a: impact.impact_assessment_update(actor=a, assessment=w.assessment("draft"), costs="More"),
    ),
    "impact_assessment_score": (
        EDITORS,
        lambda w, a: impact.impact_assessment_score(
            actor=a, assessment=w.assessment("draft"), scores={**SCORES, "bias": 90}
        ),
    ),
    "impact_assessment_submit": (
        EDITORS,
        lambda w, a: impact.impact_assessment_submit(actor=a, assessment=w.assessment("draft")),
    ),
    "impact_assessment_review": (
        REVIEWERS,
        lambda w, a: impact.impact_assessment_review(
            actor=a, assessment=w.assessment("submitted"), comments="c", recommendation="concur"
        ),
    ),
    "impact_assessment_accept_risk": (
        CAIO_ONLY,
        lambda w, a: impact.impact_assessment_accept_risk(actor=a, assessment=w.assessment("reviewed"), statement="s"),
    ),
    "impact_assessment_return": (
        REVIEWERS,
        lambda w, a: impact.impact_assessment_return(actor=a, assessment=w.assessment("submitted"), reason="r"),
    ),
    "impact_assessment_new_version": (
        EDITORS,
        lambda w, a: impact.impact_assessment_new_version(
            actor=a, assessment=w.assessment("superseded"), change_summary="c"
        ),
    ),
    "waiver_issue": (
        CAIO_ONLY,
        lambda w, a: (
            waivers.waiver_issue(
                actor=a,
                use_case=w.use_case,
                practices=["testing"],
                basis="increases_risk",
                determination="d",
                risk_assessment="r",
                granted_on=dt.date(2025, 6, 1),
            )
            if w.waiver
            else None
        ),
    ),
    "waiver_recertify": (CAIO_ONLY, lambda w, a: waivers.waiver_recertify(actor=a, waiver=w.waiver, note="n")),
    "waiver_revoke": (CAIO_ONLY, lambda w, a: waivers.waiver_revoke(actor=a, waiver=w.waiver, reason="r")),
    "waiver_record_omb_report": (
        EDITORS,
        lambda w, a: waivers.waiver_record_omb_report(
            actor=a, waiver=w.waiver, event="grant", reported_on=dt.date(2026, 3, 20)
        ),
    ),
    "waiver_set_public_summary": (
        EDITORS,
        lambda w, a: waivers.waiver_set_public_summary(actor=a, waiver=w.waiver, url="https://agency.gov/w/1"),
    ),
    "feedback_channel_create": (
        EDITORS,
        lambda w, a: feedback.feedback_channel_create(
            actor=a, use_case=w.use_case, name="n", method="email", contact="a@b.gov"
        ),
    ),
    "feedback_channel_deactivate": (
        EDITORS,
        lambda w, a: feedback.feedback_channel_deactivate(actor=a, channel=w.channel, reason="r"),
    ),
    "feedback_item_record": (
        EDITORS,
        lambda w, a: feedback.feedback_item_record(actor=a, channel=w.channel, category="other", summary="s"),
    ),
    "feedback_item_triage": (
        EDITORS,
        lambda w, a: feedback.feedback_item_triage(
            actor=a, item=FeedbackItemFactory(channel=w.channel), outcome="no_action"
        ),
    ),
}
# Waiver authority is the CAIO's alone: even a superuser is refused (M-25-21 §4(a)(ii)).
CAIO_DESIGNATION_ONLY = {"waiver_issue", "waiver_recertify", "waiver_revoke"}


@pytest.fixture(autouse=True)
def _clock():
    import time_machine

    with time_machine.travel(dt.datetime(2026, 4, 1, 15, tzinfo=dt.UTC), tick=False):
        yield


def _arrange(operation, world):
    """Build what the operation touches before the snapshot, so the snapshot sees only the write."""
    names = {
        "model_card_update_draft": ["draft_card"],
        "model_card_publish": ["draft_card"],
        "model_card_discard": ["draft_card"],
        "model_card_new_version": ["published_card"],
        "vendor_artefacts_review_card": ["artefacts"],
        "monitoring_plan_update": ["plan"],
        "monitoring_plan_retire": ["plan"],
        "monitoring_observation_record": ["plan"],
        "content_tracing_policy_approve": ["policy_draft"],
        "content_tracing_policy_discard": ["policy_draft"],
        "feedback_channel_deactivate": ["channel"],
        "feedback_item_record": ["channel"],
    }.get(operation, [])
    for name in [*names, "use_case", "author"]:
        getattr(world, name)
    if operation.startswith("waiver_"):
        world.waiver  # noqa: B018 - build it


def _prepared(operation, world):
    """Operations that build their own target row inside the call get it built here instead."""
    _arrange(operation, world)
    status = {
        "impact_assessment_update": "draft",
        "impact_assessment_score": "draft",
        "impact_assessment_submit": "draft",
        "impact_assessment_review": "submitted",
        "impact_assessment_accept_risk": "reviewed",
        "impact_assessment_return": "submitted",
        "impact_assessment_new_version": "superseded",
    }.get(operation)
    if status:
        target = world.assessment(status)
        world.assessment = lambda _status: target
    if operation == "fairness_assessment_retract":
        target = FairnessAssessmentFactory(use_case=world.use_case)
        return lambda w, a: measures.fairness_assessment_retract(actor=a, assessment=target, reason="r")
    if operation == "confabulation_check_retract":
        target = ConfabulationCheckFactory(use_case=world.use_case)
        return lambda w, a: measures.confabulation_check_retract(actor=a, check=target, reason="r")
    if operation == "feedback_item_triage":
        target = FeedbackItemFactory(channel=world.channel)
        return lambda w, a: feedback.feedback_item_triage(actor=a, item=target, outcome="no_action")
    return WRITES[operation][1]


@pytest.mark.django_db
@pytest.mark.parametrize("persona_name", PERSONAS)
@pytest.mark.parametrize("operation", sorted(WRITES))
def test_role_matrix(operation, persona_name, world, persona, ledger_count):
    allowed = WRITES[operation][0]
    call = _prepared(operation, world)
    assert_write_obeys_roles(call, world, persona(persona_name), persona_name, allowed, snapshot, ledger_count)


@pytest.mark.django_db
@pytest.mark.parametrize("operation", sorted(WRITES))
def test_superuser(operation, world, superuser, ledger_count):
    call = _prepared(operation, world)
    before, ledger_before = snapshot(), ledger_count()
    if operation in CAIO_DESIGNATION_ONLY:
        with pytest.raises(NotAllowed, match="active Chief AI Officer"):
            call(world, superuser)
        assert (snapshot(), ledger_count()) == (before, ledger_before)
    else:
        call(world, superuser)
        assert ledger_count() > ledger_before
