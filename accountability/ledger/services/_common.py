"""Shared by the ledger services: who records, and the project an entry belongs to."""

from __future__ import annotations

from django.utils import timezone

from accountability.actors import actor_ref, history_user, is_system
from accountability.exceptions import InvalidTransition, NotAllowed, ValidationFailed
from accountability.models import Project
from accountability.permissions import Perm, is_unrestricted, require
from accountability.services._common import tracked_save


def recorder_party(actor) -> dict:
    """The portal user or system actor recording an entry, as a party (persons become tokens)."""
    who = actor_ref(actor)
    return {"kind": who["kind"], "id": who["name"]}


def require_append(actor, project: Project | None) -> None:
    """Appending needs ``ledger.append`` in the project; ledger-wide entries need a superuser or system."""
    if project is None:
        if not is_unrestricted(actor):
            raise NotAllowed("Only superusers and system jobs write ledger-wide entries.")
        return
    require(actor, project, Perm.LEDGER_APPEND, "Your role does not allow recording ledger entries here.")


def default_owner(actor, owner) -> dict | None:
    """The accountable owner given, else the person recording (a system actor owns nothing)."""
    if owner:
        return owner
    return None if is_system(actor) or actor is None else recorder_party(actor)


def clean_model_id(model_id) -> str:
    """An AI model id as entries name it (no spaces, at most 200 characters), else ValidationFailed."""
    model_id = (model_id or "").strip() if isinstance(model_id, str | None) else ""
    if not model_id or len(model_id) > 200 or any(c.isspace() for c in model_id):
        raise ValidationFailed({"model_id": ["The model id as entries name it (no spaces, at most 200 characters)."]})
    return model_id


def revoke_row(row, *, actor, reason: str, why_message: str, already: str, history_reason: str):
    """Revoke a scope grant or a model key (``revoked_at``, ``revoked_by``, ``revoke_reason``): lock the
    row, refuse a blank reason or a second revocation, stamp it and save its history. The caller has
    checked permission and records the Governance entry in the same transaction."""
    row = type(row).objects.select_for_update().select_related("project").get(pk=row.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": [why_message]})
    if row.revoked_at is not None:
        raise InvalidTransition(already)
    row.revoked_at, row.revoked_by, row.revoke_reason = timezone.now(), history_user(actor), reason.strip()
    tracked_save(row, actor=actor, reason=history_reason)
    return row
