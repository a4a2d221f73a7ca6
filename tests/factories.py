"""factory_boy factories. They arrange state directly; tests of behaviour call the services."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from accountability.models import (
    AIUseCase,
    CAIODesignation,
    ContractualObligation,
    Membership,
    OversightPlan,
    OversightPlanVersion,
    Project,
    Stakeholder,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    key = factory.Sequence(lambda n: f"proj-{500 + n}")
    name = factory.Sequence(lambda n: f"Project {n}")
    organization = "Department of Examples"
    is_federal_agency = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.GOVERNANCE_STAFF


class UseCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIUseCase

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Use case {n}")
    stage = AIUseCase.Stage.PRE_DEPLOYMENT
    bureau = "Office of Examples"
    purpose = "Helps staff."
    benefits = "Faster service."
    outputs = "A score."
    topic_area = "Services"
    contact_email = "owner@example.gov"
    high_impact_determination = AIUseCase.HighImpact.NOT_HIGH

    class Params:
        high_impact = factory.Trait(
            high_impact_determination=AIUseCase.HighImpact.HIGH,
            high_impact_bases=["access"],
        )


class CAIODesignationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CAIODesignation

    project = factory.SubFactory(ProjectFactory)
    official_name = "Jane Smith"
    official_email = "jane@agency.gov"
    authority_scope = CAIODesignation.Scope.AGENCY
    effective_date = factory.LazyFunction(lambda: dt.date(2025, 1, 1))


class OversightPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OversightPlan

    project = factory.SubFactory(ProjectFactory)
    use_case = factory.SubFactory(UseCaseFactory, project=factory.SelfAttribute("..project"))


COMPLETE_PLAN = {
    "roles": [{"role": "Reviewer", "assignee": "Case worker", "responsibilities": "Reviews outputs"}],
    "escalation_path": [{"level": 1, "role": "Program manager", "trigger": "Disagreement", "within_hours": 24}],
    "hitl_checkpoints": [{"decision": "Adverse action", "approval_required": True, "approver_roles": ["Reviewer"]}],
    "approval_required": True,
    "intervention_role": "Program manager",
    "fail_safe": "Fall back to the manual process.",
}


class PlanVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OversightPlanVersion

    plan = factory.SubFactory(OversightPlanFactory)
    version = 1
    status = OversightPlanVersion.Status.DRAFT
    name = "Oversight plan"
    roles = factory.LazyFunction(lambda: list(COMPLETE_PLAN["roles"]))
    escalation_path = factory.LazyFunction(lambda: list(COMPLETE_PLAN["escalation_path"]))
    hitl_checkpoints = factory.LazyFunction(lambda: list(COMPLETE_PLAN["hitl_checkpoints"]))
    approval_required = True
    intervention_role = "Program manager"
    fail_safe = "Fall back to the manual process."


class StakeholderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stakeholder

    use_case = factory.SubFactory(UseCaseFactory)
    project = factory.SelfAttribute("use_case.project")
    name = factory.Sequence(lambda n: f"Party {n}")
    role = Stakeholder.Role.AI_TOOL_PROVIDER
    responsibility_share = 50


class ObligationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractualObligation

    stakeholder = factory.SubFactory(StakeholderFactory)
    project = factory.SelfAttribute("stakeholder.project")
    description = "Respond to defects."
    sla_metric = ContractualObligation.Metric.DEFECT_RESPONSE_HOURS
    sla_target = 48
