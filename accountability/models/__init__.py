"""Models of the governance domain, one module per subdomain."""

from .incidents import CorrectiveAction, Incident, IncidentEvent, IncidentStakeholderNotice
from .notifications import Notification
from .reassessments import ReassessmentCompletion, ReassessmentSchedule
from .registry import (
    AIUseCase,
    CAIODesignation,
    ContractualObligation,
    Membership,
    OversightPlan,
    OversightPlanVersion,
    Project,
    Stakeholder,
)
from .webhooks import Webhook, WebhookDelivery

__all__ = [
    "AIUseCase",
    "CAIODesignation",
    "ContractualObligation",
    "CorrectiveAction",
    "Incident",
    "IncidentEvent",
    "IncidentStakeholderNotice",
    "Membership",
    "Notification",
    "OversightPlan",
    "OversightPlanVersion",
    "Project",
    "ReassessmentCompletion",
    "ReassessmentSchedule",
    "Stakeholder",
    "Webhook",
    "WebhookDelivery",
]
