"""Appeals of AI-affected decisions (M-25-21 §4(b)(vi), seed 003 goal 3, D318): submit, assign a reviewer,
decide, escalate, withdraw, add information, and the SLA checks. Each step of ``AppealFlow`` is driven
from here, in the same transaction as the business change and its ledger entry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accountability.actors import actor_label, history_user
from accountability.config import policy
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.ledger.selectors import decision_entry_for_trace, people_named
from accountability.models import AIUseCase, Appeal, AppealNote, Membership, Project
from accountability.permissions import Perm, has_perm, require
from accountability.rules.calendar import business_calendar
from accountability.selectors import appeals as appeal_sel

from ._common import full_clean, tracked_save
from ._workflow import flows, locked_process, open_task, run_task
from .notifications import notification_send

Status = Appeal.Status
DECISION_OUTCOMES = (Appeal.Outcome.UPHELD, Appeal.Outcome.PARTIALLY_UPHELD, Appeal.Outcome.DENIED)


# --- helpers ------------------------------------------------------------------------------------------


def _members(project: Project, *roles: str) -> list:
    return list(
        get_user_model()
        .objects.filter(icdev_memberships__project=project, icdev_memberships__role__in=roles, is_active=True)
        .distinct()
    )


def _url(appeal: Appeal) -> str:
    return f"/portal/appeals/{appeal.public_id}/"


def _notify_appellant(appeal: Appeal, *, kind: str, subject: str, body: str) -> None:
    """Tell the appellant: in their inbox when they have an account, else by e-mail when they gave one."""
    if appeal.appellant_id:
        notification_send(
            recipients=[appeal.appellant],
            kind=kind,
            subject=subject,
            body=body,
            url=_url(appeal),
            project=appeal.project,
            dedupe_key=f"{kind}:{appeal.pk}",
        )
    elif appeal.appellant_email:
        email = appeal.appellant_email
        transaction.on_commit(
            lambda: send_mail(subject[:200], body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=True)
        )


def _locked(appeal: Appeal) -> Appeal:
    return Appeal.objects.select_for_update(of=("self",)).select_related("project", "use_case").get(pk=appeal.pk)


def _clean_text(value, field: str, *, required: bool = True, limit: int = 10000) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationFailed({field: ["Must be text."]})
    if required and not text:
        raise ValidationFailed({field: ["This field is required."]})
    if len(text) > limit:
        raise ValidationFailed({field: [f"At most {limit} characters."]})
    return text


def _users(values, field: str) -> list:
    User = get_user_model()
    users = []
    for value in values or []:
        if not isinstance(value, User) or not value.is_active:
            raise ValidationFailed({field: ["Each entry must be an active user."]})
        users.append(value)
    return users


def _decision_takers_from_entry(entry, project: Project) -> list:
    """The people the ledger names as having taken the decision: the persons in its actor and its
    responsibility chain (delegator, approver, oversight), as written or as corrected. The ledger
    stores persons as HMAC tokens, so they are matched against the users who could be involved in the
    appeal: the project's members and superusers (who may review any appeal)."""
    candidates = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(icdev_memberships__project=project) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )
    return people_named(entry, candidates)


def _require_reader(actor, appeal: Appeal) -> Appeal:
    """NotFound unless the actor may see the appeal (so other projects' appeals stay invisible)."""
    return appeal_sel.require_visible(actor, appeal)


# --- submission ---------------------------------------------------------------------------------------


@transaction.atomic
def appeal_submit(
    *,
    actor,
    project: Project,
    decision_trace_id: str,
    reason: str,
    use_case: AIUseCase | None = None,
    appellant=None,
    appellant_name: str = "",
    appellant_email: str = "",
    appellant_phone: str = "",
    appellant_postal_address: str = "",
    decided_by: list | None = None,
) -> Appeal:
    """Submit an appeal against the AI decision with this trace id and start its review process."""
    require(actor, project, Perm.APPEAL_SUBMIT)
    coordinator = has_perm(actor, project, Perm.APPEAL_COORDINATE)
    outside = {
        "appellant_name": (appellant_name or "").strip(),
        "appellant_email": (appellant_email or "").strip().lower(),
        "appellant_phone": (appellant_phone or "").strip(),
        "appellant_postal_address": (appellant_postal_address or "").strip(),
    }
    if not coordinator:
        if (appellant is not None and appellant != actor) or any(outside.values()) or decided_by:
            raise NotAllowed("You can appeal only on your own behalf.")
        appellant = actor
    elif appellant is not None and any(outside.values()):
        raise ValidationFailed({"appellant": ["Give either a user or an outside person's details, not both."]})
    elif appellant is None and not outside["appellant_name"]:
        raise ValidationFailed(
            {"appellant": ["Name the appellant: a user, or an outside person with contact details."]}
        )
    if appellant is not None:
        _users([appellant], "appellant")
    elif not (outside["appellant_email"] or outside["appellant_phone"] or outside["appellant_postal_address"]):
        raise ValidationFailed({"appellant_email": ["Give an outside appellant's e-mail, phone or postal address."]})
    if use_case is not None and use_case.project_id != project.pk:
        raise ValidationFailed({"use_case": ["The use case belongs to another project."]})
    trace_id = decision_trace_id.strip() if isinstance(decision_trace_id, str) else ""
    takers = _users(decided_by, "decided_by")

    if (
        appellant is not None
        and Appeal.objects.filter(project=project, decision_trace_id=trace_id, appellant=appellant)
        .exclude(status=Status.RESOLVED)
        .exists()
    ):
        raise Conflict("An open appeal against this decision already exists for this appellant.")

    now = timezone.now()
    rules = policy()["appeals"]
    appeal = Appeal(
        project=project,
        use_case=use_case,
        decision_trace_id=trace_id,
        appellant=appellant,
        reason=_clean_text(reason, "reason"),
        assignment_due_at=business_calendar().add_business_days(now, rules["assignment_sla_business_days"]),
        decision_due_at=now + dt.timedelta(days=rules["decision_sla_days"]),
        created_by=history_user(actor),
        **outside,
    )
    full_clean(appeal)
    entry = decision_entry_for_trace(trace_id, project.key)
    if entry is not None:
        appeal.decision_entry_id = entry.entry_id
        takers += _decision_takers_from_entry(entry, project)
    tracked_save(appeal, actor=actor, reason="appeal submitted")
    if takers:
        appeal.decision_takers.add(*takers)
    record_governance(
        actor=actor,
        project=project,
        action_type="appeal.submit",
        description=f"{appeal.public_id} submitted against the decision with trace id {trace_id}",
        subject=appeal,
        # No names, contact details or reason text: the ledger keeps who acted, not the appellant's data.
        changes={
            "decision_trace_id": trace_id,
            "decision_entry_id": appeal.decision_entry_id,
            "use_case": use_case.public_id if use_case else None,
            "appellant": "user" if appellant is not None else "outside person",
            "assignment_due_at": appeal.assignment_due_at.isoformat(),
            "decision_due_at": appeal.decision_due_at.isoformat(),
        },
        related=[appeal.decision_entry_id] if appeal.decision_entry_id else None,
    )
    flows().AppealFlow.start.run(appeal=appeal)
    notification_send(
        recipients=_members(project, Membership.Role.GOVERNANCE_STAFF),
        kind="appeal.submitted",
        project=project,
        subject=f"Appeal {appeal.public_id} needs a reviewer",
        body=f"Assign a reviewer by {timezone.localtime(appeal.assignment_due_at):%Y-%m-%d %H:%M %Z}.",
        url=f"/portal/appeals/{appeal.public_id}/",
        dedupe_key=f"appeal.submitted:{appeal.pk}",
    )
    _notify_appellant(
        appeal,
        kind="appeal.received",
        subject=f"We received your appeal {appeal.public_id}",
        body="A person who took no part in the decision will review it. We will tell you the outcome.",
    )
    return appeal


# --- review -------------------------------------------------------------------------------------------


def _check_reviewer(appeal: Appeal, reviewer) -> None:
    errors = []
    if reviewer is None or not getattr(reviewer, "is_active", False):
        errors.append("Choose an active user.")
    elif appeal.appellant_id == reviewer.pk:
        errors.append("The appellant cannot review their own appeal.")
    elif appeal.decision_takers.filter(pk=reviewer.pk).exists():
        errors.append(f"{reviewer.get_username()} took part in the contested decision.")
    elif not has_perm(reviewer, appeal.project, Perm.APPEAL_REVIEW):
        errors.append(f"{reviewer.get_username()} does not hold the reviewer role in {appeal.project.key}.")
    if errors:
        raise ValidationFailed({"reviewer": errors})


def _require_independent(actor, appeal: Appeal, doing: str) -> None:
    pk = getattr(actor, "pk", None)
    if pk is not None and (pk == appeal.appellant_id or appeal.decision_takers.filter(pk=pk).exists()):
        raise NotAllowed(f"You are a party to this appeal and cannot {doing}.")


@transaction.atomic
def appeal_assign_reviewer(*, actor, appeal: Appeal, reviewer, decided_by: list | None = None) -> Appeal:
    """Assign the appeal's reviewer (coordinators); it moves to under review."""
    require(actor, appeal.project, Perm.APPEAL_COORDINATE)
    _require_independent(actor, appeal, "coordinate it")
    takers = _users(decided_by, "decided_by")
    if appeal.status != Status.SUBMITTED:
        raise InvalidTransition(f"{appeal.public_id} is {appeal.get_status_display().lower()}; it has a reviewer.")
    task = open_task(appeal.process, flows().AppealFlow.assign_reviewer, what="reviewer assignment")
    with run_task(task, actor):
        appeal = _locked(appeal)
        if appeal.status != Status.SUBMITTED:
            raise InvalidTransition(f"{appeal.public_id} already has a reviewer.")
        if takers:
            appeal.decision_takers.add(*takers)
        _check_reviewer(appeal, reviewer)
        appeal.reviewer, appeal.assigned_by, appeal.assigned_at = reviewer, history_user(actor), timezone.now()
        appeal.status = Status.UNDER_REVIEW
        tracked_save(appeal, actor=actor, reason="reviewer assigned")
        record_governance(
            actor=actor,
            project=appeal.project,
            action_type="appeal.assign_reviewer",
            description=f"{reviewer.get_username()} assigned to review {appeal.public_id}",
            subject=appeal,
            changes={
                "status": [Status.SUBMITTED, Status.UNDER_REVIEW],
                "reviewer": reviewer.get_username(),
                "decision_takers_added": [u.get_username() for u in takers],
                "within_sla": appeal.assigned_at <= appeal.assignment_due_at,
            },
        )
    notification_send(
        recipients=[reviewer],
        kind="appeal.assigned",
        project=appeal.project,
        subject=f"Please review appeal {appeal.public_id}",
        body=f"Decide or escalate by {timezone.localtime(appeal.decision_due_at):%Y-%m-%d}.",
        url=_url(appeal),
    )
    _notify_appellant(
        appeal,
        kind="appeal.under_review",
        subject=f"Your appeal {appeal.public_id} is under review",
        body="A reviewer who took no part in the decision is now examining your appeal.",
    )
    return appeal


@transaction.atomic
def appeal_escalate(*, actor, appeal: Appeal, reason: str) -> Appeal:
    """Escalate to the CAIO or the official delegated appeal escalation for the use case (the reviewer)."""
    appeal = _require_reader(actor, appeal)
    if appeal.status != Status.UNDER_REVIEW:
        raise InvalidTransition(f"{appeal.public_id} is {appeal.get_status_display().lower()}; it cannot escalate.")
    if appeal.reviewer_id != getattr(actor, "pk", None):
        raise NotAllowed("Only the assigned reviewer escalates an appeal.")
    reason = _clean_text(reason, "reason")
    task = open_task(appeal.process, flows().AppealFlow.review, owner=actor, what="review")
    with run_task(task, actor):
        appeal = _locked(appeal)
        target = appeal_sel.escalation_target(appeal)
        queue = [] if target.user else appeal_sel.escalation_queue_users(appeal)
        if target.user is None and not queue:
            raise Conflict(f"No one can take the escalation: {appeal.project.key} has no CAIO who is free of conflict.")
        appeal.status = Status.ESCALATED
        appeal.escalated_to, appeal.escalated_to_label = target.user, target.label
        appeal.escalated_at, appeal.escalation_reason = timezone.now(), reason
        tracked_save(appeal, actor=actor, reason="appeal escalated")
        record_governance(
            actor=actor,
            project=appeal.project,
            action_type="appeal.escalate",
            description=f"{appeal.public_id} escalated to {target.label}",
            subject=appeal,
            changes={"status": [Status.UNDER_REVIEW, Status.ESCALATED], "escalated_to": target.label},
            rationale=reason,
        )
    notification_send(
        recipients=[target.user] if target.user else queue,
        kind="appeal.escalated",
        project=appeal.project,
        subject=f"Appeal {appeal.public_id} is escalated to you",
        body=reason,
        url=_url(appeal),
    )
    return appeal


@transaction.atomic
def appeal_resolve(*, actor, appeal: Appeal, outcome: str, resolution: str) -> Appeal:
    """Record the decision on an appeal: the reviewer, or for an escalated appeal the escalation official."""
    appeal = _require_reader(actor, appeal)
    AppealFlow = flows().AppealFlow
    if appeal.status == Status.UNDER_REVIEW:
        if appeal.reviewer_id != getattr(actor, "pk", None):
            raise NotAllowed("Only the assigned reviewer decides this appeal.")
        node = AppealFlow.review
    elif appeal.status == Status.ESCALATED:
        if not appeal_sel.appeal_can_decide_escalation(actor, appeal):
            raise NotAllowed("Only the official it was escalated to decides this appeal.")
        node = AppealFlow.escalate
    else:
        raise InvalidTransition(f"{appeal.public_id} is {appeal.get_status_display().lower()}; nothing to decide.")
    if outcome not in DECISION_OUTCOMES:
        raise ValidationFailed({"outcome": [f"Must be one of: {', '.join(DECISION_OUTCOMES)}."]})
    resolution = _clean_text(resolution, "resolution")
    task = open_task(appeal.process, node, what="decision")
    before = appeal.status
    with run_task(task, actor):
        appeal = _locked(appeal)
        if appeal.status != before:
            raise InvalidTransition(f"{appeal.public_id} changed meanwhile; reload it.")
        appeal.status, appeal.outcome, appeal.resolution = Status.RESOLVED, outcome, resolution
        appeal.resolved_at, appeal.resolved_by = timezone.now(), history_user(actor)
        tracked_save(appeal, actor=actor, reason=f"appeal resolved: {outcome}")
        record_governance(
            actor=actor,
            project=appeal.project,
            action_type="appeal.resolve",
            description=f"{appeal.public_id} resolved: {appeal.get_outcome_display()}",
            subject=appeal,
            changes={
                "status": [before, Status.RESOLVED],
                "outcome": outcome,
                "within_sla": appeal.resolved_at <= appeal.decision_due_at,
            },
            rationale=resolution,
            related=[appeal.decision_entry_id] if appeal.decision_entry_id else None,
        )
    return appeal


def appeal_notify_outcome(*, actor, appeal: Appeal) -> None:
    """Tell the appellant the recorded outcome (the flow's last step; a notification, not a change)."""
    if actor is None:
        raise NotAllowed("An actor is required.")
    _notify_appellant(
        appeal,
        kind="appeal.resolved",
        subject=f"Decision on your appeal {appeal.public_id}: {appeal.get_outcome_display()}",
        body=appeal.resolution,
    )


# --- the appellant ------------------------------------------------------------------------------------


def _may_act_for_appellant(actor, appeal: Appeal) -> bool:
    """The appellant themself, or a coordinator for an appellant without an account."""
    if appeal_sel.appeal_is_own(actor, appeal):
        return True
    return appeal.appellant_id is None and has_perm(actor, appeal.project, Perm.APPEAL_COORDINATE)


@transaction.atomic
def appeal_add_information(*, actor, appeal: Appeal, body: str) -> AppealNote:
    """Add information to an open appeal (the appellant, or a coordinator for an outside appellant)."""
    appeal = _require_reader(actor, appeal)
    if not _may_act_for_appellant(actor, appeal):
        raise NotAllowed("Only the appellant adds information to an appeal.")
    if not appeal.is_open:
        raise InvalidTransition(f"{appeal.public_id} is resolved; it no longer takes information.")
    note = AppealNote(
        appeal=appeal,
        author=history_user(actor),
        author_label=actor_label(actor) if appeal.appellant_id else f"{actor_label(actor)} for the appellant",
        body=_clean_text(body, "body"),
    )
    tracked_save(note, actor=actor, reason="information added")
    record_governance(
        actor=actor,
        project=appeal.project,
        action_type="appeal.add_information",
        description=f"Information added to {appeal.public_id}",
        subject=appeal,
        changes={"note": note.pk},
    )
    reader = appeal.escalated_to or appeal.reviewer
    notification_send(
        recipients=[reader] if reader else _members(appeal.project, Membership.Role.GOVERNANCE_STAFF),
        kind="appeal.information",
        project=appeal.project,
        subject=f"New information on appeal {appeal.public_id}",
        url=_url(appeal),
    )
    return note


@transaction.atomic
def appeal_withdraw(*, actor, appeal: Appeal, reason: str = "") -> Appeal:
    """Withdraw an open appeal (the appellant); its process is cancelled and it is resolved as withdrawn."""
    appeal = _require_reader(actor, appeal)
    if not _may_act_for_appellant(actor, appeal):
        raise NotAllowed("Only the appellant withdraws an appeal.")
    if not appeal.is_open:
        raise InvalidTransition(f"{appeal.public_id} is already resolved.")
    reason = _clean_text(reason, "reason", required=False)
    AppealFlow = flows().AppealFlow
    with locked_process(AppealFlow, appeal.process):
        appeal = _locked(appeal)
        if not appeal.is_open:
            raise InvalidTransition(f"{appeal.public_id} is already resolved.")
        before = appeal.status
        AppealFlow.instance.cancel(appeal.process)
        appeal.status, appeal.outcome = Status.RESOLVED, Appeal.Outcome.WITHDRAWN
        appeal.resolution = "Withdrawn by the appellant." + (f" {reason}" if reason else "")
        appeal.resolved_at, appeal.resolved_by = timezone.now(), history_user(actor)
        tracked_save(appeal, actor=actor, reason="appeal withdrawn")
        record_governance(
            actor=actor,
            project=appeal.project,
            action_type="appeal.withdraw",
            description=f"{appeal.public_id} withdrawn by the appellant",
            subject=appeal,
            changes={"status": [before, Status.RESOLVED], "outcome": Appeal.Outcome.WITHDRAWN},
        )
    reader = appeal.escalated_to or appeal.reviewer
    notification_send(
        recipients=[reader] if reader else _members(appeal.project, Membership.Role.GOVERNANCE_STAFF),
        kind="appeal.withdrawn",
        project=appeal.project,
        subject=f"Appeal {appeal.public_id} was withdrawn",
        url=_url(appeal),
    )
    return appeal
