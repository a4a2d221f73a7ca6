"""Chief AI Officer designations (M-25-21 §3(a)(i), seed 003 §4, D317) and their delegation chains."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.exceptions import Conflict, InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import CAIODesignation, Membership, Project
from accountability.permissions import Perm, forget_roles, has_perm, require
from accountability.rules.delegation import normalise_chain

from ._common import full_clean, jsonable, tracked_save
from .notifications import notification_send


def _validate_chain(designation: CAIODesignation, chain) -> list[dict]:
    normalised, errors = normalise_chain(
        chain,
        caio_email=designation.official_email,
        caio_scope=designation.authority_scope,
        caio_start=designation.effective_date,
        caio_end=designation.expiry_date,
    )
    if errors:
        raise ValidationFailed({"delegation_chain": errors})
    return normalised


def _overlapping(project: Project, start: dt.date, end: dt.date | None, exclude_pk=None):
    qs = CAIODesignation.objects.filter(project=project, revoked_at__isnull=True).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=start)
    )
    if end is not None:
        qs = qs.filter(effective_date__lte=end)
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


def _grant_caio_role(actor, designation: CAIODesignation) -> None:
    user = designation.official
    if user is None:
        return
    if not Membership.objects.filter(project=designation.project, user=user, role=Membership.Role.CAIO).exists():
        membership = Membership(
            project=designation.project, user=user, role=Membership.Role.CAIO, granted_by=history_user(actor)
        )
        tracked_save(membership, actor=actor, reason=f"CAIO role from {designation.public_id}")
        forget_roles(user)


def _drop_caio_role(actor, designation: CAIODesignation) -> None:
    user = designation.official
    if user is None:
        return
    still_designated = (
        CAIODesignation.objects.filter(project=designation.project, official=user, revoked_at__isnull=True)
        .exclude(pk=designation.pk)
        .exists()
    )
    if not still_designated:
        for membership in Membership.objects.filter(project=designation.project, user=user, role=Membership.Role.CAIO):
            membership._history_user = history_user(actor)
            membership._change_reason = f"CAIO role ends with {designation.public_id}"
            membership.delete()
        forget_roles(user)


@transaction.atomic
def caio_designate(
    *,
    actor,
    project: Project,
    official_name: str,
    official_email: str,
    authority_scope: str,
    effective_date: dt.date | None = None,
    expiry_date: dt.date | None = None,
    official=None,
    official_title: str = "",
    grade: str = "",
    omb_notified_at: dt.date | None = None,
    delegation_chain: list | None = None,
    replace: bool = False,
    reason: str = "",
) -> CAIODesignation:
    """Designate the project's CAIO. A designation whose period overlaps a current one is refused
    unless ``replace`` is set, which revokes the overlapping designation(s) with a reason."""
    require(actor, project, Perm.CAIO_MANAGE)
    Project.objects.select_for_update().filter(pk=project.pk).first()  # serialise designations per project
    if official is not None and not isinstance(official, get_user_model()):
        raise ValidationFailed({"official": ["Must be a user."]})
    designation = CAIODesignation(
        project=project,
        official=official,
        official_name=(official_name or "").strip(),
        official_email=(official_email or "").strip().lower(),
        official_title=official_title,
        grade=grade,
        authority_scope=authority_scope,
        effective_date=effective_date or timezone.localdate(),
        expiry_date=expiry_date,
        omb_notified_at=omb_notified_at,
        created_by=history_user(actor),
    )
    full_clean(designation, exclude=["delegation_chain"])
    designation.delegation_chain = _validate_chain(designation, delegation_chain or [])

    overlapping = list(_overlapping(project, designation.effective_date, designation.expiry_date))
    if overlapping and not replace:
        ids = ", ".join(d.public_id for d in overlapping)
        raise Conflict(
            f"{project.key} already has a CAIO designation for this period ({ids}); revoke it first "
            "or designate with replace."
        )
    tracked_save(designation, actor=actor, reason="CAIO designated")
    for old in overlapping:
        _revoke(actor, old, reason or f"Superseded by {designation.public_id}")
    _grant_caio_role(actor, designation)
    record_governance(
        actor=actor,
        project=project,
        action_type="caio.designate",
        description=f"{designation.official_name} designated CAIO ({authority_scope}) as {designation.public_id}",
        subject=designation,
        rationale=reason,
        changes=jsonable(
            {
                "official_email": designation.official_email,
                "authority_scope": authority_scope,
                "effective_date": designation.effective_date,
                "expiry_date": expiry_date,
                "delegation_chain": designation.delegation_chain,
                "replaces": [d.public_id for d in overlapping],
            }
        ),
    )
    if official is not None:
        notification_send(
            recipients=[official],
            kind="caio.designated",
            project=project,
            subject=f"You are designated Chief AI Officer for {project.key}",
            body=f"Designation {designation.public_id}, scope {authority_scope}, effective "
            f"{designation.effective_date.isoformat()}.",
        )
    return designation


def _revoke(actor, designation: CAIODesignation, reason: str) -> None:
    designation.revoked_at = timezone.now()
    designation.revoked_by = history_user(actor)
    designation.revoked_reason = reason
    tracked_save(designation, actor=actor, reason="CAIO designation revoked")
    _drop_caio_role(actor, designation)
    record_governance(
        actor=actor,
        project=designation.project,
        action_type="caio.revoke",
        description=f"{designation.public_id} ({designation.official_name}) revoked",
        subject=designation,
        rationale=reason,
    )


@transaction.atomic
def caio_revoke(*, actor, designation: CAIODesignation, reason: str) -> CAIODesignation:
    """Revoke a designation; a reason is required and a revoked designation stays revoked."""
    require(actor, designation.project, Perm.CAIO_MANAGE)
    designation = CAIODesignation.objects.select_for_update().get(pk=designation.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Give the reason for the revocation."]})
    if designation.revoked_at:
        raise InvalidTransition(f"{designation.public_id} is already revoked.")
    _revoke(actor, designation, reason.strip())
    return designation


def _require_delegator(actor, designation: CAIODesignation) -> None:
    """The designated official delegates their own authority; governance staff may record it."""
    if has_perm(actor, designation.project, Perm.CAIO_MANAGE):
        return
    if not is_system(actor) and designation.official_id and designation.official_id == getattr(actor, "pk", None):
        return
    require(actor, designation.project, Perm.CAIO_MANAGE)


@transaction.atomic
def caio_add_delegation(
    *,
    actor,
    designation: CAIODesignation,
    delegate_name: str,
    delegate_email: str,
    scope: str,
    powers: list[str],
    start_date: dt.date | str | None = None,
    end_date: dt.date | str | None = None,
    scope_ref: str = "",
) -> CAIODesignation:
    """Append a delegate to the end of the chain (delegated by the last link, or by the CAIO)."""
    _require_delegator(actor, designation)
    designation = CAIODesignation.objects.select_for_update().get(pk=designation.pk)
    if designation.status not in (CAIODesignation.Status.ACTIVE, CAIODesignation.Status.SCHEDULED):
        raise InvalidTransition(f"{designation.public_id} is {designation.status}; it cannot delegate.")
    link = {
        "delegate_name": delegate_name,
        "delegate_email": delegate_email,
        "scope": scope,
        "scope_ref": scope_ref,
        "powers": powers,
        "start_date": start_date or timezone.localdate(),
        "end_date": end_date,
    }
    chain = [{k: v for k, v in existing.items() if k != "delegated_by"} for existing in designation.delegation_chain]
    designation.delegation_chain = _validate_chain(designation, [*chain, jsonable(link)])
    tracked_save(designation, actor=actor, reason="delegation added")
    record_governance(
        actor=actor,
        project=designation.project,
        action_type="caio.delegate",
        description=f"{designation.public_id} delegated {', '.join(powers)} to {delegate_email}",
        subject=designation,
        changes={"link": designation.delegation_chain[-1]},
    )
    return designation


@transaction.atomic
def caio_remove_delegation(*, actor, designation: CAIODesignation, position: int, reason: str) -> CAIODesignation:
    """Withdraw delegate ``position`` (1-based); the delegates below it lose their authority too."""
    _require_delegator(actor, designation)
    designation = CAIODesignation.objects.select_for_update().get(pk=designation.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Give the reason for withdrawing the delegation."]})
    chain = designation.delegation_chain
    if not isinstance(position, int) or not 1 <= position <= len(chain):
        raise ValidationFailed(
            {"position": [f"Must be between 1 and {len(chain)}." if chain else "There are no delegates."]}
        )
    removed = chain[position - 1 :]
    designation.delegation_chain = chain[: position - 1]
    tracked_save(designation, actor=actor, reason="delegation withdrawn")
    record_governance(
        actor=actor,
        project=designation.project,
        action_type="caio.undelegate",
        description=f"{designation.public_id} withdrew {len(removed)} delegate(s)",
        subject=designation,
        changes={"removed": removed},
        rationale=reason,
    )
    return designation


@transaction.atomic
def caio_record_omb_notification(*, actor, designation: CAIODesignation, notified_on: dt.date) -> CAIODesignation:
    """Record the date OMB was notified of the designation (due within 30 days, M-25-21 §3(a)(i))."""
    require(actor, designation.project, Perm.CAIO_MANAGE)
    designation = CAIODesignation.objects.select_for_update().get(pk=designation.pk)
    if not isinstance(notified_on, dt.date):
        raise ValidationFailed({"notified_on": ["Must be a date."]})
    if notified_on > timezone.localdate():
        raise ValidationFailed({"notified_on": ["Cannot be in the future."]})
    if designation.omb_notified_at == notified_on:
        return designation
    old = designation.omb_notified_at
    designation.omb_notified_at = notified_on
    tracked_save(designation, actor=actor, reason="OMB notification recorded")
    record_governance(
        actor=actor,
        project=designation.project,
        action_type="caio.omb_notified",
        description=f"OMB notified of {designation.public_id} on {notified_on.isoformat()}",
        subject=designation,
        changes={"omb_notified_at": jsonable([old, notified_on])},
    )
    return designation
