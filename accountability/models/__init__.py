"""Models of the governance domain, one module per subdomain."""

from .notifications import Notification
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

__all__ = [
    "AIUseCase",
    "CAIODesignation",
    "ContractualObligation",
    "Membership",
    "Notification",
    "OversightPlan",
    "OversightPlanVersion",
    "Project",
    "Stakeholder",
]
