"""Scope grants: the scope a human granted an AI model in a project (the INVITATION policy check)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user
from accountability.exceptions import ValidationFailed
from accountability.models import Project
from accountability.permissions import Perm, require
from accountability.services._common import tracked_save

from ..append import record_governance
from ..models import ScopeGrant
from ..schema import ACTION_TYPE_RE
from ._common import clean_model_id, revoke_row


def _patterns(action_types) -> list[str]:
    if not isinstance(action_types, list | tuple) or not action_types:
        raise ValidationFailed(
            {"action_types": ["List at least one action type (code.review, or data.* for a family)."]}
        )
    out = []
    for i, pattern in enumerate(action_types):
        base = pattern[:-2] if isinstance(pattern, str) and pattern.endswith(".*") else pattern
        if not isinstance(base, str) or not ACTION_TYPE_RE.match(base):
            raise ValidationFailed(
                {f"action_types[{i}]": ["An action type like code.review, or a family like data.*."]}
            )
        out.append(pattern)
    return sorted(set(out))


@transaction.atomic
def scope_grant_create(
    *,
    actor,
    project: Project,
    model_id: str,
    action_types: list[str],
    reason: str = "",
    expires_at: dt.datetime | None = None,
) -> ScopeGrant:
    """Grant an AI model the scope to perform some action types in a project (CAIO or governance staff)."""
    require(actor, project, Perm.PLAN_APPROVE, "Only the CAIO or governance staff grant AI models a scope.")
    model_id = clean_model_id(model_id)
    patterns = _patterns(action_types)
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed({"expires_at": ["Must be in the future."]})
    grant = ScopeGrant(
        project=project,
        model_id=model_id,
        action_types=patterns,
        reason=(reason or "").strip(),
        granted_by=history_user(actor),
        granted_at=now,
        expires_at=expires_at,
    )
    tracked_save(grant, actor=actor, reason="scope granted")
    record_governance(
        actor=actor,
        project=project,
        action_type="ledger.scope_grant",
        description=f"{model_id} may perform {', '.join(patterns)} in {project.key}",
        subject=grant,
        changes={"model_id": model_id, "action_types": patterns, "expires_at": expires_at},
        rationale=reason,
    )
    return grant


@transaction.atomic
def scope_grant_revoke(*, actor, grant: ScopeGrant, reason: str) -> ScopeGrant:
    """Withdraw a grant; later actions outside any other grant become INVITATION violations."""
    require(actor, grant.project, Perm.PLAN_APPROVE, "Only the CAIO or governance staff revoke a scope grant.")
    grant = revoke_row(
        grant,
        actor=actor,
        reason=reason,
        why_message="Say why the grant is revoked.",
        already=f"The grant to {grant.model_id} was already revoked.",
        history_reason="scope revoked",
    )
    record_governance(
        actor=actor,
        project=grant.project,
        action_type="ledger.scope_revoke",
        description=f"Scope of {grant.model_id} in {grant.project.key} revoked",
        subject=grant,
        rationale=reason,
    )
    return grant
