"""Shared by the ledger services: who records, and the project an entry belongs to."""

from __future__ import annotations

from accountability.actors import actor_ref, is_system
from accountability.exceptions import NotAllowed, ValidationFailed
from accountability.models import Project
from accountability.permissions import Perm, is_unrestricted, require


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
