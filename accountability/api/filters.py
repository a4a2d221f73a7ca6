"""django-filter sets for the registry endpoints."""

import django_filters as df

from accountability.exceptions import NotFound
from accountability.models import AIUseCase, CAIODesignation, ContractualObligation, OversightPlan, Stakeholder


class ProjectKeyFilterSet(df.FilterSet):
    project = df.CharFilter(field_name="project__key", help_text="Project key, e.g. proj-101.")


class UseCaseFilter(ProjectKeyFilterSet):
    high_impact = df.BooleanFilter(method="filter_high_impact")

    class Meta:
        model = AIUseCase
        fields = [
            "project",
            "stage",
            "high_impact_determination",
            "is_generative",
            "is_agentic",
            "is_llm_procured",
            "development_method",
            "withheld",
        ]

    def filter_high_impact(self, qs, name, value):
        return qs.filter(high_impact_determination="high") if value else qs.exclude(high_impact_determination="high")


class CAIOFilter(ProjectKeyFilterSet):
    status = df.ChoiceFilter(choices=CAIODesignation.Status.choices, field_name="current_status")
    omb_notified = df.BooleanFilter(field_name="omb_notified_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = CAIODesignation
        fields = ["project", "authority_scope", "status", "omb_notified"]


class OversightPlanFilter(ProjectKeyFilterSet):
    use_case = df.CharFilter(method="filter_use_case")
    has_active = df.BooleanFilter(field_name="active_version", lookup_expr="isnull", exclude=True)

    class Meta:
        model = OversightPlan
        fields = ["project", "use_case", "has_active"]

    def filter_use_case(self, qs, name, value):
        try:
            return qs.filter(use_case_id=AIUseCase.pk_from_public_id(value))
        except NotFound:  # a malformed id matches nothing
            return qs.none()


class StakeholderFilter(ProjectKeyFilterSet):
    use_case = df.CharFilter(method="filter_use_case")

    class Meta:
        model = Stakeholder
        fields = ["project", "use_case", "role", "is_active"]

    filter_use_case = OversightPlanFilter.filter_use_case


class ObligationFilter(ProjectKeyFilterSet):
    stakeholder = df.CharFilter(method="filter_stakeholder")

    class Meta:
        model = ContractualObligation
        fields = ["project", "stakeholder", "status", "sla_metric"]

    def filter_stakeholder(self, qs, name, value):
        try:
            return qs.filter(stakeholder_id=Stakeholder.pk_from_public_id(value))
        except NotFound:
            return qs.none()
