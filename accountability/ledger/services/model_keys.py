"""Model keys: the Ed25519 public keys AI models sign their ledger records with, registered per project
by a human (CAIO or governance staff) and revoked, never edited or deleted (``offline/signing.py``)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.actors import history_user
from accountability.exceptions import ValidationFailed
from accountability.models import Project
from accountability.permissions import Perm, require
from accountability.services._common import tracked_save

from ..append import record_governance
from ..models import ModelKey
from ..offline import signing
from ._common import clean_model_id, revoke_row


def _public_key(text) -> tuple[str, str]:
    """The key's canonical base64 text and its kid, or ValidationFailed on ``public_key``."""
    try:
        raw = signing.parse_public_key(text.strip() if isinstance(text, str) else text)
    except signing.SignatureError as exc:
        raise ValidationFailed({"public_key": [f"Not a raw Ed25519 public key in standard base64 ({exc})."]}) from exc
    # Stored re-encoded: base64 texts that differ only in ignored padding bits name the same key.
    return signing.b64(raw), signing.key_id(raw)


def _already(project: Project, kid: str) -> ValidationFailed:
    return ValidationFailed(
        {
            "public_key": [
                f"This key (kid {kid}) is already registered in {project.key}; a revoked key is never registered again."
            ]
        }
    )


@transaction.atomic
def model_key_register(*, actor, project: Project, model_id: str, public_key: str, reason: str = "") -> ModelKey:
    """Register an AI model's Ed25519 public key in a project, so records it signs can be checked
    (CAIO or governance staff)."""
    require(actor, project, Perm.PLAN_APPROVE, "Only the CAIO or governance staff register AI model keys.")
    model_id = clean_model_id(model_id)
    public_key, kid = _public_key(public_key)
    # Revoked keys count too: a key once withdrawn (perhaps leaked) must not become valid again.
    if ModelKey.objects.filter(project=project, kid=kid).exists():
        raise _already(project, kid)
    key = ModelKey(
        project=project,
        model_id=model_id,
        kid=kid,
        public_key=public_key,
        reason=(reason or "").strip(),
        registered_by=history_user(actor),
        registered_at=timezone.now(),
    )
    try:
        with transaction.atomic():  # a concurrent registration of the same key loses on the unique constraint
            tracked_save(key, actor=actor, reason="model key registered")
    except IntegrityError:
        raise _already(project, kid) from None
    record_governance(
        actor=actor,
        project=project,
        action_type="ledger.model_key_register",
        description=f"{model_id} signs with key {kid} in {project.key}",
        subject=key,
        changes={"model_id": model_id, "kid": kid, "public_key": public_key},
        rationale=reason,
    )
    return key


@transaction.atomic
def model_key_revoke(*, actor, key: ModelKey, reason: str) -> ModelKey:
    """Withdraw a model key; records signed with it afterwards are no longer accepted as signed by the model."""
    require(actor, key.project, Perm.PLAN_APPROVE, "Only the CAIO or governance staff revoke AI model keys.")
    key = revoke_row(
        key,
        actor=actor,
        reason=reason,
        why_message="Say why the key is revoked.",
        already=f"Key {key.kid} of {key.model_id} was already revoked.",
        history_reason="model key revoked",
    )
    record_governance(
        actor=actor,
        project=key.project,
        action_type="ledger.model_key_revoke",
        description=f"Key {key.kid} of {key.model_id} in {key.project.key} revoked",
        subject=key,
        changes={"model_id": key.model_id, "kid": key.kid},
        rationale=reason,
    )
    return key
