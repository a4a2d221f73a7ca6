"""End-user and public feedback (M-25-21 §4(b)(vii), §8): channels per use case and the items they receive.

An item is received, then triaged once (outcome and note); its triage deadline is stored on arrival.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user
from accountability.config import policy
from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, FeedbackChannel, FeedbackItem
from accountability.permissions import Perm, require

from ._common import full_clean, jsonable, raise_if, tracked_save
from ._evidence_common import require_on_use_case, required_text


def _choice(errors: dict, name: str, value, choices) -> None:
    if value not in choices.values:
        errors[name] = [f"Must be one of: {', '.join(choices.values)}."]


@transaction.atomic
def feedback_channel_create(
    *,
    actor,
    use_case: AIUseCase,
    name: str,
    method: str,
    audience: str = FeedbackChannel.Audience.PUBLIC,
    url: str = "",
    contact: str = "",
    description: str = "",
) -> FeedbackChannel:
    """Open a feedback channel for a use case; it needs a URL or a contact."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    errors: dict[str, list[str]] = {}
    text = required_text(errors, name=name)
    if not (url or "").strip() and not (contact or "").strip():
        errors["non_field_errors"] = ["Give the channel's URL or a contact (e-mail, phone, office)."]
    _choice(errors, "method", method, FeedbackChannel.Method)
    _choice(errors, "audience", audience, FeedbackChannel.Audience)
    raise_if(errors)
    channel = FeedbackChannel(
        project=use_case.project,
        use_case=use_case,
        method=method,
        audience=audience,
        url=(url or "").strip(),
        contact=(contact or "").strip(),
        description=(description or "").strip(),
        created_by=history_user(actor),
        **text,
    )
    full_clean(channel)
    tracked_save(channel, actor=actor, reason="feedback channel opened")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="feedback_channel.create",
        description=f"{channel.public_id}: {channel.get_method_display()} feedback channel for {use_case.public_id}",
        subject=channel,
        changes={"method": method, "audience": audience, "url": channel.url, "contact": channel.contact},
    )
    return channel


@transaction.atomic
def feedback_channel_deactivate(*, actor, channel: FeedbackChannel, reason: str) -> FeedbackChannel:
    """Close a channel; items already received stay and can still be triaged."""
    require(actor, channel.project, Perm.EVIDENCE_EDIT)
    channel = FeedbackChannel.objects.select_for_update().get(pk=channel.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the channel closes."]})
    if not channel.is_active:
        raise InvalidTransition(f"{channel.public_id} is already inactive.")
    channel.is_active, channel.deactivated_at, channel.deactivation_reason = False, timezone.now(), reason.strip()
    tracked_save(channel, actor=actor, reason="feedback channel closed")
    record_governance(
        actor=actor,
        project=channel.project,
        action_type="feedback_channel.deactivate",
        description=f"{channel.public_id} closed",
        subject=channel,
        rationale=reason.strip(),
    )
    return channel


@transaction.atomic
def feedback_item_record(
    *,
    actor,
    channel: FeedbackChannel,
    category: str,
    summary: str,
    received_at: dt.datetime | None = None,
    reference: str = "",
) -> FeedbackItem:
    """Record feedback received on an active channel; triage is due within the policy's period."""
    require(actor, channel.project, Perm.EVIDENCE_EDIT)
    channel = FeedbackChannel.objects.select_for_update().get(pk=channel.pk)
    if not channel.is_active:
        raise InvalidTransition(f"{channel.public_id} is closed; it takes no new feedback.")
    errors: dict[str, list[str]] = {}
    text = required_text(errors, summary=summary)
    _choice(errors, "category", category, FeedbackItem.Category)
    now = timezone.now()
    received_at = received_at or now
    if not isinstance(received_at, dt.datetime) or timezone.is_naive(received_at):
        errors["received_at"] = ["Must be a date-time with a time zone."]
    elif received_at > now:
        errors["received_at"] = ["Cannot be in the future."]
    raise_if(errors)
    item = FeedbackItem(
        project=channel.project,
        use_case_id=channel.use_case_id,
        channel=channel,
        received_at=received_at,
        category=category,
        reference=(reference or "").strip(),
        triage_due_at=received_at + dt.timedelta(days=policy()["evidence"]["feedback_triage_days"]),
        created_by=history_user(actor),
        **text,
    )
    full_clean(item)
    tracked_save(item, actor=actor, reason="feedback received")
    record_governance(
        actor=actor,
        project=channel.project,
        action_type="feedback_item.record",
        description=f"{item.public_id}: {item.get_category_display()} feedback on {channel.public_id}",
        subject=item,
        changes=jsonable({"category": category, "received_at": received_at, "triage_due_at": item.triage_due_at}),
    )
    return item


@transaction.atomic
def feedback_item_triage(*, actor, item: FeedbackItem, outcome: str, note: str = "") -> FeedbackItem:
    """Triage a received item once: record its outcome (an escalation names where it went in the note)."""
    require(actor, item.project, Perm.EVIDENCE_EDIT)
    item = FeedbackItem.objects.select_for_update().get(pk=item.pk)
    if item.status != FeedbackItem.Status.RECEIVED:
        raise InvalidTransition(f"{item.public_id} was already triaged ({item.outcome}).")
    if outcome not in FeedbackItem.Outcome.values:
        raise ValidationFailed({"outcome": [f"Must be one of: {', '.join(FeedbackItem.Outcome.values)}."]})
    escalations = (FeedbackItem.Outcome.ESCALATED_INCIDENT, FeedbackItem.Outcome.REFERRED_APPEAL)
    if outcome in (*escalations, FeedbackItem.Outcome.OTHER) and not (note or "").strip():
        raise ValidationFailed({"note": ["Say where the item went (incident or appeal id) or what was done."]})
    now = timezone.now()
    item.status, item.triaged_at, item.triaged_by = FeedbackItem.Status.TRIAGED, now, history_user(actor)
    item.outcome, item.outcome_note = outcome, (note or "").strip()
    tracked_save(item, actor=actor, reason=f"triaged: {outcome}")
    late = now > item.triage_due_at
    record_governance(
        actor=actor,
        project=item.project,
        action_type="feedback_item.triage",
        description=f"{item.public_id} triaged: {item.get_outcome_display()}"
        + (" (after its due date)" if late else ""),
        subject=item,
        changes={"outcome": outcome, "late": late},
        rationale=item.outcome_note,
    )
    return item
