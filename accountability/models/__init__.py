"""Models of the governance domain, one module per subdomain."""

from .appeals import Appeal, AppealNote
from .ethics import BoardMember, EthicsReview, EthicsReviewVersion, RubricScore
from .evidence import ConfabulationCheck, EvidenceStatus, FairnessAssessment, FairnessMetric, ModelCard, VendorArtefacts
from .evidence_impact import ImpactAssessment, WaivedPractice, Waiver
from .evidence_people import FeedbackChannel, FeedbackItem, OperatorTraining
from .evidence_tracing import ContentTracingPolicy, MonitoringObservation, MonitoringPlan, ProvenanceRecord
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
from .workflow import AppealProcess, EthicsReviewProcess, WorkflowTask

__all__ = [
    "AIUseCase",
    "Appeal",
    "AppealNote",
    "AppealProcess",
    "BoardMember",
    "CAIODesignation",
    "ConfabulationCheck",
    "ContentTracingPolicy",
    "ContractualObligation",
    "CorrectiveAction",
    "EthicsReview",
    "EthicsReviewProcess",
    "EthicsReviewVersion",
    "EvidenceStatus",
    "FairnessAssessment",
    "FairnessMetric",
    "FeedbackChannel",
    "FeedbackItem",
    "ImpactAssessment",
    "Incident",
    "IncidentEvent",
    "IncidentStakeholderNotice",
    "Membership",
    "ModelCard",
    "MonitoringObservation",
    "MonitoringPlan",
    "Notification",
    "OperatorTraining",
    "OversightPlan",
    "OversightPlanVersion",
    "Project",
    "ProvenanceRecord",
    "ReassessmentCompletion",
    "ReassessmentSchedule",
    "RubricScore",
    "Stakeholder",
    "VendorArtefacts",
    "WaivedPractice",
    "Waiver",
    "Webhook",
    "WebhookDelivery",
    "WorkflowTask",
]
