"""Factories of incidents and reassessments. They arrange state directly; behaviour tests call services."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accountability.models import (
    CorrectiveAction,
    Incident,
    IncidentEvent,
    ReassessmentSchedule,
    Webhook,
)
from tests.factories import ProjectFactory, UseCaseFactory

__all__ = [
    "CorrectiveActionFactory",
    "IncidentFactory",
    "ProjectFactory",
    "ScheduleFactory",
    "UseCaseFactory",
    "WebhookFactory",
]


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Incident {n}")
    description = "The model produced a wrong answer."
    incident_type = Incident.Type.CONFABULATION
    severity = Incident.Severity.HIGH
    reporter_name = "Reporter"
    reported_at = factory.LazyFunction(timezone.now)
    sla_due_at = factory.LazyAttribute(lambda o: o.reported_at + dt.timedelta(hours=168))

    class Params:
        breached = factory.Trait(
            reported_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10)),
        )

    @factory.post_generation
    def logged_event(obj, create, extracted, **kwargs):
        if create:
            IncidentEvent.objects.create(
                incident=obj, kind=IncidentEvent.Kind.LOGGED, actor_label="factory", to_status=obj.status
            )


class CorrectiveActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CorrectiveAction

    incident = factory.SubFactory(IncidentFactory)
    project = factory.SelfAttribute("incident.project")
    description = "Add a validation step."
    owner_name = "Owner"
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReassessmentSchedule

    project = factory.SubFactory(ProjectFactory)
    use_case = factory.SubFactory(UseCaseFactory, project=factory.SelfAttribute("..project"))
    assessment_type = "impact_assessment"
    frequency_days = 90
    anchor_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=90))
    next_due = factory.SelfAttribute("anchor_date")


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Webhook

    project = factory.SubFactory(ProjectFactory)
    name = "SOC ticketing"
    url = "http://127.0.0.1:9/hook"
    secret = "s3cret-for-tests"
