"""Models of the governance domain, one module per subdomain."""

from .evidence import ConfabulationCheck, EvidenceStatus, FairnessAssessment, FairnessMetric, ModelCard, VendorArtefacts
from .evidence_impact import ImpactAssessment, WaivedPractice, Waiver
from .evidence_people import FeedbackChannel, FeedbackItem, OperatorTraining
from .evidence_tracing import ContentTracingPolicy, MonitoringObservation, MonitoringPlan, ProvenanceRecord
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
    "ConfabulationCheck",
    "ContentTracingPolicy",
    "ContractualObligation",
    "EvidenceStatus",
    "FairnessAssessment",
    "FairnessMetric",
    "FeedbackChannel",
    "FeedbackItem",
    "ImpactAssessment",
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
    "Stakeholder",
    "VendorArtefacts",
    "WaivedPractice",
    "Waiver",
]
