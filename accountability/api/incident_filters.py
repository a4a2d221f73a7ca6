"""django-filter sets of the incident and reassessment endpoints (status, severity, due state …)."""

import django_filters as df

from accountability.exceptions import NotFound
from accountability.models import AIUseCase, Incident, ReassessmentSchedule
from accountability.selectors.incidents import SLA_STATES

from .filters import ProjectKeyFilterSet


def _by_use_case(qs, name, value):
    try:
        return qs.filter(**{name: AIUseCase.pk_from_public_id(value)}).distinct()
    except NotFound:  # a malformed id matches nothing
        return qs.none()


class IncidentFilter(ProjectKeyFilterSet):
    status = df.MultipleChoiceFilter(choices=Incident.Status.choices)
    severity = df.MultipleChoiceFilter(choices=Incident.Severity.choices)
    due_state = df.MultipleChoiceFilter(
        field_name="sla_state",
        choices=[(s, s) for s in SLA_STATES],
        help_text="SLA state: breached, at_risk, on_track or met.",
    )
    sla_breached = df.BooleanFilter(method="filter_breached")
    is_open = df.BooleanFilter(method="filter_open")
    use_case = df.CharFilter(field_name="use_cases", method=_by_use_case)
    assigned_to = df.CharFilter(field_name="assigned_to__username")

    class Meta:
        model = Incident
        fields = ["project", "status", "severity", "incident_type", "eu_serious", "due_state", "use_case"]

    def filter_breached(self, qs, name, value):
        return qs.filter(sla_state="breached") if value else qs.exclude(sla_state="breached")

    def filter_open(self, qs, name, value):
        open_ = ["open", "investigating", "mitigated"]
        return qs.filter(status__in=open_) if value else qs.exclude(status__in=open_)


class ReassessmentFilter(ProjectKeyFilterSet):
    status = df.MultipleChoiceFilter(
        field_name="live_status",
        choices=ReassessmentSchedule.Status.choices,
        help_text="Due state today: on_track, due (inside the due-soon window) or overdue.",
    )
    due_state = df.MultipleChoiceFilter(field_name="live_status", choices=ReassessmentSchedule.Status.choices)
    use_case = df.CharFilter(field_name="use_case_id", method=_by_use_case)
    assigned_to = df.CharFilter(field_name="assigned_to__username")
    due_before = df.DateFilter(field_name="next_due", lookup_expr="lte")

    class Meta:
        model = ReassessmentSchedule
        fields = ["project", "status", "due_state", "assessment_type", "is_active", "use_case", "due_reason"]
