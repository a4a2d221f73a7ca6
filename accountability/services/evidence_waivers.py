"""Waivers of minimum practices (M-25-21 §4(a)(ii)–(iv)). Only the project's active CAIO issues,
recertifies and revokes them: the authority is not delegable, so neither delegates, governance staff,
superusers nor system actors can. Grants and revocations are reported to OMB within 30 days."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.config import policy
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, CAIODesignation, Project, WaivedPractice, Waiver
from accountability.permissions import Perm, require

from ._common import full_clean, jsonable, raise_if, tracked_save
from ._evidence_common import days_after, past_date, require_on_use_case
from .notifications import notification_send


def _settings() -> dict:
    return policy()["waivers"]


def _active_caio(actor, project: Project) -> CAIODesignation:
    """The actor's own active CAIO designation for the project; NotAllowed for anyone else."""
    designation = None
    if not is_system(actor) and getattr(actor, "pk", None) is not None:
        designation = (
            CAIODesignation.objects.active().filter(project=project, official=actor).order_by("-effective_date").first()
        )
    if designation is None:
        raise NotAllowed(
            f"Only the active Chief AI Officer of {project.key} acts on waivers; the authority cannot be delegated "
            "(M-25-21 §4(a)(ii))."
        )
    return designation


def _require_caio(actor, project: Project) -> CAIODesignation:
    require(actor, project, Perm.WAIVER_ISSUE, "Only the project's active CAIO acts on waivers (M-25-21 §4(a)(ii)).")
    return _active_caio(actor, project)


@transaction.atomic
def waiver_issue(
    *,
    actor,
    use_case: AIUseCase,
    practices: list[str],
    basis: str,
    determination: str,
    risk_assessment: str,
    granted_on: dt.date | None = None,
    public_summary_url: str = "",
) -> Waiver:
    """Waive named minimum practices of a high-impact use case (the active CAIO only)."""
    # Recertification falls due in a year and the OMB report in 30 days; both dates are stored now.
    designation = _require_caio(actor, use_case.project)
    require_on_use_case(actor, use_case, Perm.WAIVER_ISSUE)
    errors: dict[str, list[str]] = {}
    if not use_case.is_high_impact:
        errors["use_case"] = [f"{use_case.public_id} is not high-impact; its minimum practices need no waiver."]
    valid = AIUseCase.MINIMUM_PRACTICES
    if not isinstance(practices, list) or not practices or any(p not in valid for p in practices):
        errors["practices"] = [f"Name one or more minimum practices: {', '.join(valid)}."]
    elif len(set(practices)) != len(practices):
        errors["practices"] = ["A practice is listed twice."]
    if basis not in Waiver.Basis.values:
        errors["basis"] = [f"Must be one of: {', '.join(Waiver.Basis.values)}."]
    for name, value in (("determination", determination), ("risk_assessment", risk_assessment)):
        if not isinstance(value, str) or not value.strip():
            errors[name] = [
                "Required: a waiver rests on a written determination and a system-specific risk assessment."
            ]
    granted_on = granted_on or timezone.localdate()
    if past_date(errors, "granted_on", granted_on) and granted_on < designation.effective_date:
        errors["granted_on"] = [f"Before your designation took effect ({designation.effective_date.isoformat()})."]
    raise_if(errors)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()
    overlap = sorted(
        WaivedPractice.objects.filter(use_case=use_case, practice__in=practices, waiver__revoked_on__isnull=True)
        .values_list("practice", flat=True)
        .distinct()
    )
    if overlap:
        raise Conflict(f"{use_case.public_id} already has an unrevoked waiver of: {', '.join(overlap)}.")
    rules = _settings()
    waiver = Waiver(
        project=use_case.project,
        use_case=use_case,
        caio_designation=designation,
        issued_by=actor,
        basis=basis,
        determination=determination.strip(),
        risk_assessment=risk_assessment.strip(),
        granted_on=granted_on,
        next_recertification_due=days_after(granted_on, rules["recertification_days"]),
        grant_omb_report_due=days_after(granted_on, rules["omb_report_days"]),
        public_summary_url=(public_summary_url or "").strip(),
        created_by=history_user(actor),
    )
    full_clean(waiver)
    tracked_save(waiver, actor=actor, reason="waiver issued")
    for practice in practices:
        tracked_save(WaivedPractice(waiver=waiver, use_case=use_case, practice=practice), actor=actor, reason="waived")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="waiver.issue",
        description=f"{waiver.public_id}: CAIO waived {', '.join(practices)} for {use_case.public_id}",
        subject=waiver,
        rationale=waiver.determination,
        changes=jsonable(
            {
                "practices": practices,
                "basis": basis,
                "granted_on": granted_on,
                "caio_designation": designation,
                "next_recertification_due": waiver.next_recertification_due,
                "grant_omb_report_due": waiver.grant_omb_report_due,
            }
        ),
    )
    return waiver


@transaction.atomic
def waiver_recertify(*, actor, waiver: Waiver, note: str, recertified_on: dt.date | None = None) -> Waiver:
    """Recertify a waiver for another year (also restores one whose recertification was overdue)."""
    _require_caio(actor, waiver.project)
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.revoked_on:
        raise InvalidTransition(f"{waiver.public_id} is revoked; issue a new waiver instead.")
    errors: dict[str, list[str]] = {}
    if not (note or "").strip():
        errors["note"] = ["Record the reassessment behind the recertification."]
    recertified_on = recertified_on or timezone.localdate()
    if past_date(errors, "recertified_on", recertified_on) and recertified_on < (
        waiver.recertified_on or waiver.granted_on
    ):
        errors["recertified_on"] = ["Cannot precede the grant or the previous recertification."]
    raise_if(errors)
    old_due = waiver.next_recertification_due
    waiver.recertified_on, waiver.recertification_note = recertified_on, note.strip()
    waiver.next_recertification_due = days_after(recertified_on, _settings()["recertification_days"])
    tracked_save(waiver, actor=actor, reason="waiver recertified")
    record_governance(
        actor=actor,
        project=waiver.project,
        action_type="waiver.recertify",
        description=f"{waiver.public_id} recertified until {waiver.next_recertification_due.isoformat()}",
        subject=waiver,
        rationale=waiver.recertification_note,
        changes=jsonable(
            {"recertified_on": recertified_on, "next_recertification_due": [old_due, waiver.next_recertification_due]}
        ),
    )
    return waiver


@transaction.atomic
def waiver_revoke(*, actor, waiver: Waiver, reason: str, revoked_on: dt.date | None = None) -> Waiver:
    """Revoke a waiver; the revocation is due at OMB within 30 days."""
    _require_caio(actor, waiver.project)
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.revoked_on:
        raise InvalidTransition(f"{waiver.public_id} is already revoked.")
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason for the revocation."]
    revoked_on = revoked_on or timezone.localdate()
    if past_date(errors, "revoked_on", revoked_on) and revoked_on < waiver.granted_on:
        errors["revoked_on"] = ["Cannot precede the grant."]
    raise_if(errors)
    waiver.revoked_on, waiver.revoked_by, waiver.revocation_reason = revoked_on, history_user(actor), reason.strip()
    waiver.revocation_omb_report_due = days_after(revoked_on, _settings()["omb_report_days"])
    tracked_save(waiver, actor=actor, reason="waiver revoked")
    record_governance(
        actor=actor,
        project=waiver.project,
        action_type="waiver.revoke",
        description=f"{waiver.public_id} revoked on {revoked_on.isoformat()}",
        subject=waiver,
        rationale=waiver.revocation_reason,
        changes=jsonable({"revoked_on": revoked_on, "revocation_omb_report_due": waiver.revocation_omb_report_due}),
    )
    return waiver


@transaction.atomic
def waiver_record_omb_report(*, actor, waiver: Waiver, event: str, reported_on: dt.date) -> Waiver:
    """Record the date a grant or revocation was reported to OMB (a late date is recorded as it happened)."""
    require(actor, waiver.project, Perm.WAIVER_REPORT)
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    errors: dict[str, list[str]] = {}
    if event not in ("grant", "revocation"):
        raise ValidationFailed({"event": ["Must be grant or revocation."]})
    if event == "revocation" and not waiver.revoked_on:
        raise InvalidTransition(f"{waiver.public_id} is not revoked.")
    field, start, due = (
        ("grant_reported_to_omb_on", waiver.granted_on, waiver.grant_omb_report_due)
        if event == "grant"
        else ("revocation_reported_to_omb_on", waiver.revoked_on, waiver.revocation_omb_report_due)
    )
    if past_date(errors, "reported_on", reported_on) and reported_on < start:
        errors["reported_on"] = [f"Cannot precede the {event} ({start.isoformat()})."]
    raise_if(errors)
    current = getattr(waiver, field)
    if current == reported_on:
        return waiver
    if current is not None:
        raise InvalidTransition(
            f"The {event} of {waiver.public_id} was already reported to OMB on {current.isoformat()}."
        )
    setattr(waiver, field, reported_on)
    tracked_save(waiver, actor=actor, reason=f"{event} reported to OMB")
    late = (reported_on - due).days if reported_on > due else 0
    record_governance(
        actor=actor,
        project=waiver.project,
        action_type="waiver.omb_report",
        description=f"{waiver.public_id}: {event} reported to OMB on {reported_on.isoformat()}"
        + (f" ({late} days late)" if late else ""),
        subject=waiver,
        changes=jsonable({"event": event, "reported_on": reported_on, "due": due, "days_late": late}),
    )
    if late and waiver.issued_by_id:
        notification_send(
            recipients=[waiver.issued_by],
            kind="waiver.omb_report_late",
            project=waiver.project,
            subject=f"{waiver.public_id}: OMB report of the {event} was {late} days late",
            body=f"Due {due.isoformat()}, reported {reported_on.isoformat()} (M-25-21 §4(a)(iii)).",
            dedupe_key=f"waiver.omb_report_late:{waiver.pk}:{event}",
        )
    return waiver


@transaction.atomic
def waiver_set_public_summary(*, actor, waiver: Waiver, url: str) -> Waiver:
    """Record where the waiver's public summary is published (M-25-21 §4(a)(iv))."""
    require(actor, waiver.project, Perm.WAIVER_REPORT)
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    old = waiver.public_summary_url
    waiver.public_summary_url = (url or "").strip()
    if not waiver.public_summary_url:
        raise ValidationFailed({"url": ["Give the URL of the public summary."]})
    if old == waiver.public_summary_url:
        return waiver
    full_clean(waiver)
    tracked_save(waiver, actor=actor, reason="public summary published")
    record_governance(
        actor=actor,
        project=waiver.project,
        action_type="waiver.public_summary",
        description=f"{waiver.public_id}: public summary at {waiver.public_summary_url}",
        subject=waiver,
        changes={"public_summary_url": [old, waiver.public_summary_url]},
    )
    return waiver
