"""Models of the governance domain, one module per subdomain."""

from .appeals import Appeal, AppealNote
from .ethics import BoardMember, EthicsReview, EthicsReviewVersion, RubricScore
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
from .workflow import AppealProcess, EthicsReviewProcess, WorkflowTask

__all__ = [
    "AIUseCase",
    "Appeal",
    "AppealNote",
    "AppealProcess",
    "BoardMember",
    "CAIODesignation",
    "ContractualObligation",
    "EthicsReview",
    "EthicsReviewProcess",
    "EthicsReviewVersion",
    "Membership",
    "Notification",
    "OversightPlan",
    "OversightPlanVersion",
    "Project",
    "RubricScore",
    "Stakeholder",
    "WorkflowTask",
]
