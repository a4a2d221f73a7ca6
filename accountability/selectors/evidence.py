"""Reads of the transparency evidence, scoped to the projects the actor may read (REGISTRY_VIEW)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accountability.ledger.selectors import entry_documents
from accountability.models import (
    AIUseCase,
    ConfabulationCheck,
    ContentTracingPolicy,
    FairnessAssessment,
    FeedbackChannel,
    FeedbackItem,
    ImpactAssessment,
    ModelCard,
    MonitoringObservation,
    MonitoringPlan,
    OperatorTraining,
    Project,
    ProvenanceRecord,
    VendorArtefacts,
    WaivedPractice,
    Waiver,
)
from accountability.permissions import Perm, require
from accountability.rules.evidence import (
    GENESIS_HASH,
    SECTION_TITLES,
    ChainReport,
    card_completeness,
    classify,
    record_hash_of,
    score_parameters,
    section_gaps,
    weighted_score,
)

from ._scope import get_by_public_id, scoped

# --- model cards and vendor artefacts -------------------------------------------------------------------


def model_card_list(actor, project: Project | None = None) -> QuerySet[ModelCard]:
    """Model card versions (every version is a row)."""
    qs = ModelCard.objects.select_related("project", "use_case", "created_by", "published_by")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def model_card_get(actor, public_id: str) -> ModelCard:
    """One model card version by its public id (``MC-00001``)."""
    return get_by_public_id(ModelCard, model_card_list(actor), public_id)


def model_card_completeness(actor, card: ModelCard) -> dict:
    """Which required sections of the card are empty."""
    require(actor, card.project, Perm.REGISTRY_VIEW)
    return {"id": card.public_id, **card_completeness(card)}


def vendor_artefacts_list(actor, project: Project | None = None) -> QuerySet[VendorArtefacts]:
    """M-26-04 vendor artefacts, with ``artefact_count`` (0–4) annotated for filtering."""
    qs = VendorArtefacts.objects.select_related("project", "use_case", "card_reviewed_by").with_artefact_count()
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def vendor_artefacts_get(actor, public_id: str) -> VendorArtefacts:
    """One vendor-artefact record by its public id (``VA-00001``)."""
    return get_by_public_id(VendorArtefacts, vendor_artefacts_list(actor), public_id)


# --- fairness and confabulation -------------------------------------------------------------------------


def fairness_assessment_list(actor, project: Project | None = None) -> QuerySet[FairnessAssessment]:
    """Fairness assessments with their subgroup metrics."""
    qs = FairnessAssessment.objects.select_related("project", "use_case", "created_by").prefetch_related("metrics")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def fairness_assessment_get(actor, public_id: str) -> FairnessAssessment:
    """One fairness assessment by its public id (``FA-00001``)."""
    return get_by_public_id(FairnessAssessment, fairness_assessment_list(actor), public_id)


def confabulation_check_list(actor, project: Project | None = None) -> QuerySet[ConfabulationCheck]:
    """Confabulation checks of generative use cases."""
    qs = ConfabulationCheck.objects.select_related("project", "use_case", "created_by")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def confabulation_check_get(actor, public_id: str) -> ConfabulationCheck:
    """One confabulation check by its public id (``CNF-00001``)."""
    return get_by_public_id(ConfabulationCheck, confabulation_check_list(actor), public_id)


# --- provenance and content tracing ---------------------------------------------------------------------


def provenance_record_list(actor, project: Project | None = None) -> QuerySet[ProvenanceRecord]:
    """Provenance records."""
    qs = ProvenanceRecord.objects.select_related("project", "use_case")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def provenance_record_get(actor, public_id: str) -> ProvenanceRecord:
    """One provenance record by its public id (``PRV-00001``)."""
    return get_by_public_id(ProvenanceRecord, provenance_record_list(actor), public_id)


def _ledger_anchors(entry_ids: list[str]) -> dict[str, str]:
    """entry_id -> the record hash the Governance entry anchored (the ledger stores it in the changes);
    entries still pending integration count, a purged or missing entry anchors nothing ("")."""
    anchors = {}
    for entry_id, document in entry_documents(entry_ids).items():
        try:
            anchors[entry_id] = document["action"]["inputs"][0]["changes"]["record_hash"]
        except (KeyError, IndexError, TypeError):
            anchors[entry_id] = ""
    return anchors


def provenance_chain_problems(use_case: AIUseCase, chunk: int = 500) -> Iterator[tuple[ProvenanceRecord, str]]:
    """Each record of the use case's chain with its problem ('' when verifiable); callers check access."""
    qs = ProvenanceRecord.objects.filter(use_case=use_case).select_related("project", "use_case").order_by("sequence")
    expected_prev, expected_seq = GENESIS_HASH, 1
    last_seq = 0
    while True:
        batch = list(qs.filter(sequence__gt=last_seq)[:chunk])
        if not batch:
            return
        anchors = _ledger_anchors([r.ledger_entry_id for r in batch])
        for record in batch:
            if record.sequence != expected_seq:
                problem = f"sequence gap: expected #{expected_seq}"
            elif record_hash_of(record) != record.record_hash:
                problem = "content does not match its hash"
            elif record.previous_hash != expected_prev:
                problem = "not linked to the previous record"
            elif anchors.get(record.ledger_entry_id) != record.record_hash:
                problem = "ledger anchor missing or different"
            else:
                problem = ""
            yield record, problem
            expected_prev, expected_seq = record.record_hash, record.sequence + 1
        last_seq = batch[-1].sequence


def provenance_chain_check(actor, use_case: AIUseCase) -> ChainReport:
    """Verify the use case's chain without storing anything (what an auditor runs)."""
    require(actor, use_case.project, Perm.REGISTRY_VIEW)
    report = ChainReport(use_case_id=use_case.public_id)
    for record, problem in provenance_chain_problems(use_case):
        report.total += 1
        if problem:
            report.broken.append({"id": record.public_id, "sequence": record.sequence, "problem": problem})
        else:
            report.verified += 1
    return report


def content_tracing_policy_list(actor, project: Project | None = None) -> QuerySet[ContentTracingPolicy]:
    """Content-tracing policy versions."""
    qs = ContentTracingPolicy.objects.select_related("project", "owner", "created_by", "approved_by")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def content_tracing_policy_get(actor, public_id: str) -> ContentTracingPolicy:
    """One policy version by its public id (``CTP-00001``)."""
    return get_by_public_id(ContentTracingPolicy, content_tracing_policy_list(actor), public_id)


def content_tracing_policy_current(actor, project: Project) -> ContentTracingPolicy | None:
    """The approved policy whose review date has not passed, if any (the evidence a check counts)."""
    return (
        content_tracing_policy_list(actor, project)
        .filter(status=ContentTracingPolicy.Status.APPROVED, review_due_on__gte=timezone.localdate())
        .first()
    )


# --- monitoring -------------------------------------------------------------------------------------------


def monitoring_plan_list(actor, project: Project | None = None) -> QuerySet[MonitoringPlan]:
    """Monitoring plans with their number of observations and of breaches."""
    qs = MonitoringPlan.objects.select_related("project", "use_case").annotate(
        observation_count=Count("observations"),
        breach_count=Count("observations", filter=Q(observations__within_threshold=False)),
    )
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def monitoring_plan_get(actor, public_id: str) -> MonitoringPlan:
    """One monitoring plan by its public id (``MON-00001``)."""
    return get_by_public_id(MonitoringPlan, monitoring_plan_list(actor), public_id)


def monitoring_observation_list(
    actor, project: Project | None = None, plan: MonitoringPlan | None = None
) -> QuerySet[MonitoringObservation]:
    """Monitoring observations, newest first (of one plan when given)."""
    qs = MonitoringObservation.objects.select_related("project", "use_case", "plan")
    if plan is not None:
        require(actor, plan.project, Perm.REGISTRY_VIEW)
        return qs.filter(plan=plan)
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def monitoring_observation_get(actor, public_id: str) -> MonitoringObservation:
    """One observation by its public id (``OBS-00001``)."""
    return get_by_public_id(MonitoringObservation, monitoring_observation_list(actor), public_id)


# --- impact assessments and waivers ------------------------------------------------------------------------


def impact_assessment_list(actor, project: Project | None = None) -> QuerySet[ImpactAssessment]:
    """Impact assessment versions (every version is a row)."""
    qs = ImpactAssessment.objects.select_related(
        "project", "use_case", "reviewer", "risk_accepted_by", "created_by"
    ).prefetch_related("developers")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def impact_assessment_get(actor, public_id: str) -> ImpactAssessment:
    """One impact assessment version by its public id (``IA-00001``)."""
    return get_by_public_id(ImpactAssessment, impact_assessment_list(actor), public_id)


def impact_score_breakdown(assessment: ImpactAssessment) -> dict | None:
    """The stored weighted score with each dimension's contribution, and the score under today's policy."""
    scores = {name: getattr(assessment, f) for name, f in ImpactAssessment.SCORE_FIELDS.items()}
    if any(v is None for v in scores.values()):
        return None
    params = score_parameters()
    current = weighted_score(scores, params)
    weights = {
        name: Decimal(str(assessment.score_parameters.get("weights", {}).get(name, params.weights[name])))
        for name in scores
    }
    return {
        "risk_score": str(assessment.risk_score),
        "risk_class": assessment.risk_class,
        "dimensions": {
            name: {"score": str(value), "weight": str(weights[name]), "contribution": str(value * weights[name])}
            for name, value in scores.items()
        },
        "parameters": assessment.score_parameters,
        "scored_at": assessment.scored_at.isoformat() if assessment.scored_at else None,
        # A policy change after scoring shows here instead of silently rewriting stored evidence.
        "under_current_policy": {"risk_score": str(current), "risk_class": classify(current, params)},
    }


def impact_assessment_score(actor, assessment: ImpactAssessment) -> dict:
    """The score breakdown of one assessment version."""
    require(actor, assessment.project, Perm.REGISTRY_VIEW)
    return {
        "id": assessment.public_id,
        "scored": assessment.risk_score is not None,
        "score": impact_score_breakdown(assessment),
    }


def _determination_check(use_case: AIUseCase, risk_class: str | None) -> tuple[bool | None, str]:
    determination = use_case.high_impact_determination
    if risk_class is None:
        return None, "No scored impact assessment to compare with."
    if determination == AIUseCase.HighImpact.NOT_ASSESSED:
        return None, "The use case has no high-impact determination yet."
    is_high = determination == AIUseCase.HighImpact.HIGH
    if (risk_class == ImpactAssessment.RiskClass.HIGH) == is_high:
        return True, f"Score class {risk_class} agrees with the determination ({determination})."
    if is_high:
        return False, f"Determined high-impact but scored {risk_class}: confirm the §5 basis or revisit the scores."
    return False, f"Scored high but determined {determination}: review the determination (M-25-21 §4(a))."


def impact_report(actor, use_case: AIUseCase) -> dict:
    """The impact picture of one use case: score and class, missing sections A–G, review, acceptance, agreement."""
    require(actor, use_case.project, Perm.REGISTRY_VIEW)
    versions = ImpactAssessment.objects.filter(use_case=use_case).prefetch_related("developers").order_by("-version")
    latest = versions.first()
    accepted = versions.filter(status=ImpactAssessment.Status.ACCEPTED).first()
    today = timezone.localdate()
    report = {
        "use_case_id": use_case.public_id,
        "use_case": use_case.name,
        "project": use_case.project.key,
        "stage": use_case.stage,
        "high_impact_determination": use_case.high_impact_determination,
        "assessment": None,
        "accepted_version": None,
        "score": None,
        "risk_class": None,
        "missing_sections": [
            {"section": key, "title": title, "missing": ["assessment"]} for key, title in SECTION_TITLES.items()
        ],
        "independent_review": {"status": "missing"},
        "risk_acceptance": {"status": "missing"},
        "completed_before_deployment": None,
        "next_reassessment_due": None,
        "reassessment_overdue": None,
    }
    if accepted is not None:
        report["accepted_version"] = {"id": accepted.public_id, "version": accepted.version}
        report["completed_before_deployment"] = accepted.use_case_stage_at_acceptance != AIUseCase.Stage.DEPLOYED
        report["next_reassessment_due"] = accepted.next_reassessment_due
        report["reassessment_overdue"] = bool(accepted.next_reassessment_due and accepted.next_reassessment_due < today)
    if latest is not None:
        gaps = section_gaps(latest, involves_pii=use_case.involves_pii)
        developer_ids = {u.pk for u in latest.developers.all()}
        report.update(
            assessment={"id": latest.public_id, "version": latest.version, "status": latest.status},
            score=impact_score_breakdown(latest),
            risk_class=latest.risk_class or None,
            missing_sections=[
                {"section": key, "title": SECTION_TITLES[key], "missing": missing}
                for key, missing in gaps.items()
                if missing
            ],
            independent_review=(
                {
                    "status": "done",
                    "reviewer": latest.reviewer_name,
                    "reviewer_office": latest.reviewer_office,
                    "reviewed_at": latest.reviewed_at,
                    "recommendation": latest.review_recommendation,
                    "reviewer_is_developer": latest.reviewer_id in developer_ids,
                }
                if latest.reviewed_at
                else {"status": "pending" if latest.status == ImpactAssessment.Status.SUBMITTED else "not_submitted"}
            ),
            risk_acceptance=(
                {
                    "status": "signed",
                    "by": latest.risk_acceptor_name,
                    "title": latest.risk_acceptor_title,
                    "at": latest.risk_accepted_at,
                }
                if latest.risk_accepted_at
                else {"status": "pending" if latest.status == ImpactAssessment.Status.REVIEWED else "not_ready"}
            ),
        )
    agrees, note = _determination_check(use_case, latest.risk_class if latest and latest.risk_class else None)
    report["determination_agrees"], report["determination_note"] = agrees, note
    return report


def impact_reports(actor, project: Project) -> list[dict]:
    """impact_report for every use case of the project that is not retired."""
    require(actor, project, Perm.REGISTRY_VIEW)
    use_cases = (
        AIUseCase.objects.filter(project=project).exclude(stage=AIUseCase.Stage.RETIRED).select_related("project")
    )
    return [impact_report(actor, uc) for uc in use_cases.order_by("id")]


def waiver_list(actor, project: Project | None = None) -> QuerySet[Waiver]:
    """Waivers with ``current_status`` and ``omb_report_overdue`` annotated (as of today)."""
    qs = (
        Waiver.objects.select_related("project", "use_case", "issued_by", "caio_designation")
        .prefetch_related(Prefetch("practices", queryset=WaivedPractice.objects.order_by("practice")))
        .with_status()
    )
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def waiver_get(actor, public_id: str) -> Waiver:
    """One waiver by its public id (``WVR-00001``)."""
    return get_by_public_id(Waiver, waiver_list(actor), public_id)


# --- feedback and training ----------------------------------------------------------------------------------


def feedback_channel_list(actor, project: Project | None = None) -> QuerySet[FeedbackChannel]:
    """Feedback channels with their item counts (all and untriaged)."""
    qs = FeedbackChannel.objects.select_related("project", "use_case").annotate(
        item_count=Count("items"), open_item_count=Count("items", filter=Q(items__status="received"))
    )
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def feedback_channel_get(actor, public_id: str) -> FeedbackChannel:
    """One feedback channel by its public id (``FBC-00001``)."""
    return get_by_public_id(FeedbackChannel, feedback_channel_list(actor), public_id)


def feedback_item_list(actor, project: Project | None = None) -> QuerySet[FeedbackItem]:
    """Feedback items, newest first."""
    qs = FeedbackItem.objects.select_related("project", "use_case", "channel", "triaged_by")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def feedback_item_get(actor, public_id: str) -> FeedbackItem:
    """One feedback item by its public id (``FBI-00001``)."""
    return get_by_public_id(FeedbackItem, feedback_item_list(actor), public_id)


def operator_training_list(actor, project: Project | None = None) -> QuerySet[OperatorTraining]:
    """Operator training records."""
    qs = OperatorTraining.objects.select_related("project", "use_case", "operator")
    return scoped(qs, actor, Perm.REGISTRY_VIEW, project)


def operator_training_get(actor, public_id: str) -> OperatorTraining:
    """One training record by its public id (``TRN-00001``)."""
    return get_by_public_id(OperatorTraining, operator_training_list(actor), public_id)
