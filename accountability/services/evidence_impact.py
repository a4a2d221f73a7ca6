"""AI impact assessments (M-25-21 §4(b)(ii)): sections A–E drafted, F independent review, G signed risk
acceptance, and the weighted risk score.

draft --submit--> submitted --review--> reviewed --accept_risk--> accepted --(newer accepted)--> superseded
submitted/reviewed --return--> draft (the review is cleared and must be done again on the new content)
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.config import policy
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, ImpactAssessment, Membership
from accountability.permissions import Perm, has_perm, require
from accountability.rules.evidence import (
    SECTION_TITLES,
    benefit_metric_errors,
    classify,
    normalise_scores,
    score_parameters,
    section_gaps,
    weighted_score,
)

from ._common import full_clean, jsonable, raise_if, tracked_save
from ._evidence_common import days_after, require_on_use_case
from .notifications import notification_send

Status = ImpactAssessment.Status
User = get_user_model()


def _clean_content(content: dict) -> dict:
    unknown = sorted(set(content) - set(ImpactAssessment.CONTENT_FIELDS))
    if unknown:
        raise ValidationFailed({f: ["Unknown field."] for f in unknown})
    content = {k: v.strip() if isinstance(v, str) else v for k, v in content.items()}
    if "benefit_metrics" in content:
        errors = benefit_metric_errors(content["benefit_metrics"])
        if errors:
            raise ValidationFailed({"benefit_metrics": errors})
    return content


def _clean_developers(project, developers) -> list:
    developers = list(developers or [])
    if any(not isinstance(u, User) for u in developers):
        raise ValidationFailed({"developers": ["Each developer must be a user."]})
    outsiders = [
        u.get_username() for u in developers if not Membership.objects.filter(project=project, user=u).exists()
    ]
    if outsiders:
        raise ValidationFailed({"developers": [f"Not members of {project.key}: {', '.join(sorted(outsiders))}."]})
    return developers


def _apply_scores(assessment: ImpactAssessment, scores: dict) -> None:
    params = score_parameters()
    for name, field in ImpactAssessment.SCORE_FIELDS.items():
        setattr(assessment, field, scores[name])
    assessment.risk_score = weighted_score(scores, params)
    assessment.risk_class = classify(assessment.risk_score, params)
    assessment.score_parameters = params.as_dict()
    assessment.scored_at = timezone.now()


def _scores_of(assessment: ImpactAssessment) -> dict | None:
    values = {name: getattr(assessment, field) for name, field in ImpactAssessment.SCORE_FIELDS.items()}
    return None if any(v is None for v in values.values()) else values


def _lock_open(assessment: ImpactAssessment, expected: tuple[str, ...], verb: str) -> ImpactAssessment:
    assessment = ImpactAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.status not in expected:
        allowed = " or ".join(expected)
        raise InvalidTransition(
            f"{assessment.public_id} is {assessment.status}; only a {allowed} version can be {verb}."
        )
    return assessment


@transaction.atomic
def impact_assessment_create(
    *, actor, use_case: AIUseCase, developers=(), change_summary: str = "", **content
) -> ImpactAssessment:
    """Draft version 1 of a use case's impact assessment (later versions: impact_assessment_new_version)."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    content = _clean_content(content)
    developers = _clean_developers(use_case.project, developers)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()
    if ImpactAssessment.objects.filter(use_case=use_case).exists():
        raise Conflict(f"{use_case.public_id} already has an impact assessment; insert a new version instead.")
    content.setdefault("pia_url", use_case.pia_url)
    content.setdefault("reassessment_frequency_days", policy()["impact_assessment"]["reassessment_frequency_days"])
    assessment = ImpactAssessment(
        project=use_case.project,
        use_case=use_case,
        version=1,
        status=Status.DRAFT,
        change_summary=(change_summary or "").strip() or "Initial assessment",
        created_by=history_user(actor),
        **content,
    )
    full_clean(assessment)
    tracked_save(assessment, actor=actor, reason="impact assessment v1 drafted")
    assessment.developers.set(developers)
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="impact_assessment.create",
        description=f"{assessment.public_id}: impact assessment v1 of {use_case.public_id} drafted",
        subject=assessment,
        changes=jsonable({**content, "developers": [u.get_username() for u in developers]}),
    )
    return assessment


@transaction.atomic
def impact_assessment_update(*, actor, assessment: ImpactAssessment, developers=None, **changes) -> ImpactAssessment:
    """Edit sections A–E (and the developer list) of a draft."""
    require(actor, assessment.project, Perm.EVIDENCE_EDIT)
    assessment = _lock_open(assessment, (Status.DRAFT,), "edited")
    changes = _clean_content(changes)
    diff = {
        k: [jsonable(getattr(assessment, k)), jsonable(v)] for k, v in changes.items() if getattr(assessment, k) != v
    }
    for key, value in changes.items():
        setattr(assessment, key, value)
    if developers is not None:
        developers = _clean_developers(assessment.project, developers)
        before = sorted(u.get_username() for u in assessment.developers.all())
        after = sorted(u.get_username() for u in developers)
        if before != after:
            diff["developers"] = [before, after]
    if not diff:
        return assessment
    full_clean(assessment)
    tracked_save(assessment, actor=actor, reason="impact assessment draft edited")
    if "developers" in diff:
        assessment.developers.set(developers)
    record_governance(
        actor=actor,
        project=assessment.project,
        action_type="impact_assessment.update",
        description=f"{assessment.public_id} (v{assessment.version}) draft edited",
        subject=assessment,
        changes=diff,
    )
    return assessment


@transaction.atomic
def impact_assessment_score(*, actor, assessment: ImpactAssessment, scores: dict) -> ImpactAssessment:
    """Score the six risk dimensions of a draft (0–100 each); the weighted score and class follow."""
    require(actor, assessment.project, Perm.EVIDENCE_EDIT)
    assessment = _lock_open(assessment, (Status.DRAFT,), "scored")
    values, errors = normalise_scores(scores)
    raise_if(errors)
    before = {"risk_score": jsonable(assessment.risk_score), "risk_class": assessment.risk_class}
    _apply_scores(assessment, values)
    tracked_save(assessment, actor=actor, reason=f"scored {assessment.risk_score} ({assessment.risk_class})")
    record_governance(
        actor=actor,
        project=assessment.project,
        action_type="impact_assessment.score",
        description=f"{assessment.public_id} scored {assessment.risk_score}: {assessment.risk_class}",
        subject=assessment,
        changes={
            "before": before,
            "scores": jsonable(values),
            "risk_score": str(assessment.risk_score),
            "risk_class": assessment.risk_class,
            "parameters": assessment.score_parameters,
        },
    )
    return assessment


@transaction.atomic
def impact_assessment_submit(*, actor, assessment: ImpactAssessment) -> ImpactAssessment:
    """Submit a complete, scored draft for independent review; its content is frozen from now on."""
    require(actor, assessment.project, Perm.EVIDENCE_EDIT)
    assessment = _lock_open(assessment, (Status.DRAFT,), "submitted")
    gaps = section_gaps(assessment, involves_pii=assessment.use_case.involves_pii)
    errors = {
        field: [f"Section {key} ({SECTION_TITLES[key]}) needs this before review."]
        for key in "ABCDE"
        for field in gaps[key]
    }
    if _scores_of(assessment) is None:
        errors["scores"] = ["Score the six risk dimensions before review."]
    raise_if(errors)
    assessment.status, assessment.submitted_at, assessment.submitted_by = (
        Status.SUBMITTED,
        timezone.now(),
        history_user(actor),
    )
    tracked_save(assessment, actor=actor, reason="submitted for independent review")
    record_governance(
        actor=actor,
        project=assessment.project,
        action_type="impact_assessment.submit",
        description=f"{assessment.public_id} (v{assessment.version}) submitted for independent review",
        subject=assessment,
    )
    return assessment


def _risk_acceptors(assessment: ImpactAssessment) -> list:
    caios = User.objects.filter(
        icdev_memberships__project=assessment.project, icdev_memberships__role=Membership.Role.CAIO, is_active=True
    )
    official = assessment.use_case.responsible_official
    return [*caios, *([official] if official else [])]


@transaction.atomic
def impact_assessment_review(
    *, actor, assessment: ImpactAssessment, comments: str, recommendation: str, reviewer_office: str = ""
) -> ImpactAssessment:
    """Record the acting user's independent review (section F); developers and the author are refused."""
    require(actor, assessment.project, Perm.IMPACT_REVIEW, "Your role cannot review impact assessments.")
    if is_system(actor):
        raise NotAllowed("An independent review is signed by a person, not a system actor.")
    assessment = _lock_open(assessment, (Status.SUBMITTED,), "reviewed")
    if assessment.developers.filter(pk=actor.pk).exists():
        raise NotAllowed("Independent review: you are listed among the system's developers (M-25-21 §4(b)(ii)(F)).")
    if actor.pk in (assessment.created_by_id, assessment.submitted_by_id):
        raise NotAllowed("Independent review: the author or submitter of the assessment cannot review it.")
    errors: dict[str, list[str]] = {}
    if not (comments or "").strip():
        errors["comments"] = ["Give the review's comments; they are passed to the risk acceptor."]
    if recommendation not in ImpactAssessment.Recommendation.values:
        errors["recommendation"] = [f"Must be one of: {', '.join(ImpactAssessment.Recommendation.values)}."]
    raise_if(errors)
    assessment.status = Status.REVIEWED
    assessment.reviewer, assessment.reviewed_at = actor, timezone.now()
    assessment.reviewer_name = actor.get_full_name() or actor.get_username()
    assessment.reviewer_office = (reviewer_office or "").strip()
    assessment.review_comments, assessment.review_recommendation = comments.strip(), recommendation
    tracked_save(assessment, actor=actor, reason=f"independent review: {recommendation}")
    record_governance(
        actor=actor,
        project=assessment.project,
        action_type="impact_assessment.review",
        description=f"{assessment.public_id} independently reviewed by {assessment.reviewer_name}: {recommendation}",
        subject=assessment,
        rationale=assessment.review_comments,
        changes={"recommendation": recommendation, "reviewer_office": assessment.reviewer_office},
    )
    notification_send(
        recipients=_risk_acceptors(assessment),
        kind="impact_assessment.reviewed",
        project=assessment.project,
        subject=f"{assessment.public_id} reviewed: risk acceptance needed",
        body=f"Independent review of the impact assessment of {assessment.use_case}: "
        f"{assessment.get_review_recommendation_display()}.\n\n{assessment.review_comments}",
        dedupe_key=f"impact_assessment.reviewed:{assessment.pk}:{assessment.reviewed_at.isoformat()}",
    )
    return assessment


@transaction.atomic
def impact_assessment_accept_risk(
    *, actor, assessment: ImpactAssessment, statement: str, acceptor_title: str = ""
) -> ImpactAssessment:
    """Sign the risk acceptance (section G) as the CAIO or the responsible official, never the reviewer."""
    use_case = assessment.use_case
    is_official = not is_system(actor) and use_case.responsible_official_id == getattr(actor, "pk", None)
    if not (is_official and has_perm(actor, assessment.project, Perm.REGISTRY_VIEW)):
        require(
            actor,
            assessment.project,
            Perm.RISK_ACCEPT,
            "Only the CAIO or the use case's responsible official accepts risk.",
        )
    if is_system(actor):
        raise NotAllowed("A risk acceptance is signed by a person, not a system actor.")
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()
    assessment = _lock_open(assessment, (Status.REVIEWED,), "accepted")
    if assessment.reviewer_id == actor.pk:
        raise NotAllowed("The independent reviewer cannot also accept the risk.")
    if not (statement or "").strip():
        raise ValidationFailed({"statement": ["Write the risk acceptance statement you sign."]})
    now = timezone.now()
    previous = ImpactAssessment.objects.filter(use_case=use_case, status=Status.ACCEPTED).first()
    if previous is not None:
        previous.status, previous.superseded_at = Status.SUPERSEDED, now
        tracked_save(previous, actor=actor, reason=f"superseded by v{assessment.version}")
    assessment.status = Status.ACCEPTED
    assessment.risk_accepted_by, assessment.risk_accepted_at = actor, now
    assessment.risk_acceptor_name = actor.get_full_name() or actor.get_username()
    assessment.risk_acceptor_title = (acceptor_title or "").strip()
    assessment.risk_acceptance_statement = statement.strip()
    assessment.use_case_stage_at_acceptance = use_case.stage
    assessment.next_reassessment_due = days_after(timezone.localdate(), assessment.reassessment_frequency_days)
    tracked_save(assessment, actor=actor, reason="risk accepted")
    record_governance(
        actor=actor,
        project=assessment.project,
        action_type="impact_assessment.accept_risk",
        description=f"{assessment.public_id}: risk of {use_case.public_id} accepted by {assessment.risk_acceptor_name}"
        + (f"; {previous.public_id} superseded" if previous else ""),
        subject=assessment,
        rationale=assessment.risk_acceptance_statement,
        changes=jsonable(
            {
                "risk_score": assessment.risk_score,
                "risk_class": assessment.risk_class,
                "stage_at_acceptance": use_case.stage,
                "next_reassessment_due": assessment.next_reassessment_due,
                "review_recommendation": assessment.review_recommendation,
            }
        ),
    )
    return assessment


@transaction.atomic
def impact_assessment_return(*, actor, assessment: ImpactAssessment, reason: str) -> ImpactAssessment:
    """Send a submitted or reviewed version back to draft (the review is cleared; history keeps it)."""
    project = assessment.project
    if not any(has_perm(actor, project, p) for p in (Perm.EVIDENCE_EDIT, Perm.IMPACT_REVIEW, Perm.RISK_ACCEPT)):
        require(actor, project, Perm.EVIDENCE_EDIT)
    assessment = _lock_open(assessment, (Status.SUBMITTED, Status.REVIEWED), "returned")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say what must change."]})
    old = assessment.status
    assessment.status = Status.DRAFT
    assessment.submitted_at = assessment.submitted_by = None
    assessment.reviewer = assessment.reviewed_at = None
    assessment.reviewer_name = assessment.reviewer_office = assessment.review_comments = (
        assessment.review_recommendation
    ) = ""
    tracked_save(assessment, actor=actor, reason=f"returned to draft from {old}")
    record_governance(
        actor=actor,
        project=project,
        action_type="impact_assessment.return",
        description=f"{assessment.public_id} (v{assessment.version}) returned to draft from {old}",
        subject=assessment,
        rationale=reason.strip(),
    )
    return assessment


@transaction.atomic
def impact_assessment_new_version(
    *, actor, assessment: ImpactAssessment, change_summary: str, **changes
) -> ImpactAssessment:
    """Start a reassessment: draft version n+1 copying the latest content, developers and scores."""
    require_on_use_case(actor, assessment.use_case, Perm.EVIDENCE_EDIT)
    changes = _clean_content(changes)
    if not (change_summary or "").strip():
        raise ValidationFailed(
            {"change_summary": ["Say why the assessment is revised (e.g. a significant modification)."]}
        )
    AIUseCase.objects.select_for_update().filter(pk=assessment.use_case_id).first()
    versions = ImpactAssessment.objects.filter(use_case=assessment.use_case_id).order_by("-version")
    open_version = versions.filter(status__in=ImpactAssessment.OPEN_STATUSES).first()
    if open_version is not None:
        raise Conflict(
            f"{open_version.public_id} (v{open_version.version}) is still {open_version.status}; finish it first."
        )
    latest = versions.first()
    content = {name: getattr(latest, name) for name in ImpactAssessment.CONTENT_FIELDS}
    content.update(changes)
    new = ImpactAssessment(
        project=latest.project,
        use_case=latest.use_case,
        version=latest.version + 1,
        status=Status.DRAFT,
        change_summary=change_summary.strip(),
        created_by=history_user(actor),
        **content,
    )
    scores = _scores_of(latest)
    if scores is not None:
        _apply_scores(new, scores)
    full_clean(new)
    tracked_save(new, actor=actor, reason=f"impact assessment v{new.version} drafted")
    new.developers.set(latest.developers.all())
    record_governance(
        actor=actor,
        project=new.project,
        action_type="impact_assessment.new_version",
        description=f"{new.public_id}: impact assessment v{new.version} of {new.use_case.public_id} drafted",
        subject=new,
        rationale=change_summary.strip(),
        changes={k: [jsonable(getattr(latest, k)), jsonable(v)] for k, v in changes.items() if getattr(latest, k) != v},
    )
    return new
