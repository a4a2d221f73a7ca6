"""factory_boy factories of the transparency evidence. They arrange state directly; behaviour is tested
through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accountability.models import (
    ConfabulationCheck,
    ContentTracingPolicy,
    FairnessAssessment,
    FairnessMetric,
    FeedbackChannel,
    FeedbackItem,
    ImpactAssessment,
    ModelCard,
    MonitoringPlan,
    OperatorTraining,
    VendorArtefacts,
    WaivedPractice,
    Waiver,
)
from tests.factories import CAIODesignationFactory, UseCaseFactory, UserFactory

COMPLETE_CARD = {
    "model_description": "Gradient-boosted classifier.",
    "intended_use": "Rank applications for caseworker review.",
    "limitations": "Not validated for appeals.",
    "training_data": "2019-2024 applications.",
    "evaluation": "AUC 0.86 on the 2025 hold-out set.",
    "ethical_considerations": "Protected classes excluded; disparities monitored.",
    "contact": "ai-governance@agency.gov",
}

COMPLETE_IMPACT = {
    "purpose_and_benefits": "Shorter waits for applicants.",
    "benefit_metrics": [{"name": "median wait (days)", "target": "10", "baseline": "21"}],
    "data_quality": "Wage records reconciled monthly.",
    "protected_class_data": "None used as inputs.",
    "rights_impacts": "Risk of delayed benefits for mis-ranked applicants.",
    "mitigations": "Every adverse ranking is reviewed by a caseworker.",
    "pia_url": "https://agency.gov/pia/1",
    "reassessment_frequency_days": 365,
    "reassessment_procedures": "Yearly and after any significant modification.",
    "costs": "USD 120k a year.",
}

SCORES = {
    "rights": Decimal("80"),
    "affected_population": Decimal("60"),
    "data_sensitivity": Decimal("70"),
    "reversibility": Decimal("50"),
    "human_oversight": Decimal("40"),
    "bias": Decimal("60"),
}


class ModelCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelCard

    use_case = factory.SubFactory(UseCaseFactory)
    project = factory.SelfAttribute("use_case.project")
    model_name = "screener-gbm"
    model_version = "2.1"
    version = 1
    status = ModelCard.Status.DRAFT
    model_description = COMPLETE_CARD["model_description"]
    intended_use = COMPLETE_CARD["intended_use"]
    limitations = COMPLETE_CARD["limitations"]
    training_data = COMPLETE_CARD["training_data"]
    evaluation = COMPLETE_CARD["evaluation"]
    ethical_considerations = COMPLETE_CARD["ethical_considerations"]
    contact = COMPLETE_CARD["contact"]

    class Params:
        published = factory.Trait(status=ModelCard.Status.PUBLISHED, published_at=factory.LazyFunction(timezone.now))


class VendorArtefactsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorArtefacts

    use_case = factory.SubFactory(UseCaseFactory, is_llm_procured=True, is_generative=True)
    project = factory.SelfAttribute("use_case.project")
    vendor_name = "Northwind"
    acceptable_use_policy_url = "https://vendor.example.com/aup"
    model_card_url = "https://vendor.example.com/card"


class FairnessAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FairnessAssessment

    use_case = factory.SubFactory(UseCaseFactory)
    project = factory.SelfAttribute("use_case.project")
    model_name = "screener-gbm"
    model_version = "2.1"
    performed_on = dt.date(2026, 1, 10)
    method = "Disaggregated evaluation"
    overall_result = FairnessAssessment.Result.PASS
    next_due_on = factory.LazyAttribute(lambda o: o.performed_on + dt.timedelta(days=90))


class FairnessMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FairnessMetric

    assessment = factory.SubFactory(FairnessAssessmentFactory)
    group = factory.Sequence(lambda n: f"group {n}")
    metric = FairnessMetric.Metric.DEMOGRAPHIC_PARITY_RATIO
    value = Decimal("0.9")
    threshold = Decimal("0.8")
    comparison = FairnessMetric.Comparison.AT_LEAST
    within_threshold = True


class ConfabulationCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfabulationCheck

    use_case = factory.SubFactory(UseCaseFactory, is_generative=True)
    project = factory.SelfAttribute("use_case.project")
    model_name = "chat-llm"
    model_version = "2026-01"
    checked_on = dt.date(2026, 2, 1)
    checks_citations = True
    method = "Sampled 200 answers; verified every citation."
    sample_size = 200
    errors_found = 4
    error_rate = Decimal("0.02")
    max_error_rate = Decimal("0.05")
    result = ConfabulationCheck.Result.PASS


class ContentTracingPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentTracingPolicy

    project = factory.SubFactory("tests.factories.ProjectFactory")
    version = 1
    status = ContentTracingPolicy.Status.DRAFT
    title = "Content tracing policy"
    owner_name = "Grace Okafor"
    scope = "Every generated answer and recommendation."
    retention_days = 365
    review_due_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=180))
    tracing_enabled = True


class MonitoringPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonitoringPlan

    use_case = factory.SubFactory(UseCaseFactory)
    project = factory.SelfAttribute("use_case.project")
    name = "Monthly performance"
    metrics = factory.LazyFunction(
        lambda: [
            {"name": "accuracy", "unit": "", "threshold": "0.850000", "comparison": "at_least"},
            {"name": "override_rate", "unit": "", "threshold": "0.100000", "comparison": "at_most"},
        ]
    )
    frequency_days = 30
    starts_on = dt.date(2026, 1, 1)
    next_observation_due = dt.date(2026, 1, 31)


class ImpactAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImpactAssessment

    use_case = factory.SubFactory(UseCaseFactory, high_impact=True)
    project = factory.SelfAttribute("use_case.project")
    version = 1
    status = ImpactAssessment.Status.DRAFT
    purpose_and_benefits = COMPLETE_IMPACT["purpose_and_benefits"]
    benefit_metrics = factory.LazyFunction(lambda: list(COMPLETE_IMPACT["benefit_metrics"]))
    data_quality = COMPLETE_IMPACT["data_quality"]
    protected_class_data = COMPLETE_IMPACT["protected_class_data"]
    rights_impacts = COMPLETE_IMPACT["rights_impacts"]
    mitigations = COMPLETE_IMPACT["mitigations"]
    pia_url = COMPLETE_IMPACT["pia_url"]
    reassessment_frequency_days = 365
    reassessment_procedures = COMPLETE_IMPACT["reassessment_procedures"]
    costs = COMPLETE_IMPACT["costs"]

    class Params:
        scored = factory.Trait(
            score_rights=SCORES["rights"],
            score_affected_population=SCORES["affected_population"],
            score_data_sensitivity=SCORES["data_sensitivity"],
            score_reversibility=SCORES["reversibility"],
            score_human_oversight=SCORES["human_oversight"],
            score_bias=SCORES["bias"],
            risk_score=Decimal("62.50"),
            risk_class=ImpactAssessment.RiskClass.MEDIUM,
        )


class WaiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Waiver
        skip_postgeneration_save = True

    use_case = factory.SubFactory(UseCaseFactory, high_impact=True)
    project = factory.SelfAttribute("use_case.project")
    caio_designation = factory.SubFactory(CAIODesignationFactory, project=factory.SelfAttribute("..project"))
    issued_by = factory.SubFactory(UserFactory)
    basis = Waiver.Basis.IMPEDES_OPERATIONS
    determination = "Written determination."
    risk_assessment = "System-specific risk assessment."
    granted_on = dt.date(2026, 3, 1)
    next_recertification_due = dt.date(2027, 3, 1)
    grant_omb_report_due = dt.date(2026, 3, 31)

    @factory.post_generation
    def practices(obj, create, extracted, **kwargs):
        if create:
            for practice in extracted or ["public_consultation"]:
                WaivedPractice.objects.create(waiver=obj, use_case=obj.use_case, practice=practice)


class FeedbackChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackChannel

    use_case = factory.SubFactory(UseCaseFactory)
    project = factory.SelfAttribute("use_case.project")
    name = "Web form"
    method = FeedbackChannel.Method.WEB_FORM
    url = "https://agency.gov/feedback"


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackItem

    channel = factory.SubFactory(FeedbackChannelFactory)
    project = factory.SelfAttribute("channel.project")
    use_case = factory.SelfAttribute("channel.use_case")
    received_at = factory.LazyFunction(timezone.now)
    category = FeedbackItem.Category.ERROR
    summary = "The answer cited a page that does not exist."
    triage_due_at = factory.LazyAttribute(lambda o: o.received_at + dt.timedelta(days=30))


class OperatorTrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatorTraining

    use_case = factory.SubFactory(UseCaseFactory)
    project = factory.SelfAttribute("use_case.project")
    operator_name = "Case Worker"
    course = "Screener operations"
    completed_on = dt.date(2026, 1, 15)
    expires_on = dt.date(2027, 1, 15)
