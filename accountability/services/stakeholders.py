"""Shared accountability (seed 000): stakeholder parties of a use case, their responsibility shares
(the active shares of a use case never exceed 100 % and are complete at exactly 100 %) and their
contractual obligations."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from accountability.actors import history_user
from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, ContractualObligation, Stakeholder
from accountability.permissions import Perm, require
from accountability.selectors.registry import stakeholder_allocated_share

from ._common import apply_changes, full_clean, jsonable, tracked_save

HUNDRED = Decimal("100")
STAKEHOLDER_EDITABLE = {
    "name",
    "role",
    "organization",
    "contact_name",
    "contact_email",
    "responsibility_share",
    "responsibilities",
}
OBLIGATION_TRANSITIONS = {
    ContractualObligation.Status.ACTIVE: {"met", "breached", "waived", "ended"},
    ContractualObligation.Status.MET: {"active", "breached", "ended"},
    ContractualObligation.Status.BREACHED: {"active", "met", "waived", "ended"},
    ContractualObligation.Status.WAIVED: {"active", "ended"},
    ContractualObligation.Status.ENDED: set(),
}


def _share(value) -> Decimal:
    try:
        share = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed({"responsibility_share": ["Must be a number between 0 and 100."]}) from exc
    if not Decimal(0) < share <= HUNDRED:
        raise ValidationFailed({"responsibility_share": ["Must be more than 0 and at most 100."]})
    return share


def _check_total(use_case: AIUseCase, share: Decimal, exclude_pk=None) -> None:
    others = stakeholder_allocated_share(use_case, exclude_pk)
    if others + share > HUNDRED:
        raise ValidationFailed(
            {
                "responsibility_share": [
                    f"The shares of {use_case.public_id} would total {others + share}%; at most {HUNDRED - others}% is "
                    "unallocated."
                ]
            }
        )


@transaction.atomic
def stakeholder_add(
    *,
    actor,
    use_case: AIUseCase,
    name: str,
    role: str,
    responsibility_share,
    organization: str = "",
    contact_name: str = "",
    contact_email: str = "",
    responsibilities: str = "",
) -> Stakeholder:
    """Add a party with its share of responsibility for the use case."""
    require(actor, use_case.project, Perm.REGISTRY_EDIT)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()  # serialise share changes
    share = _share(responsibility_share)
    stakeholder = Stakeholder(
        project=use_case.project,
        use_case=use_case,
        name=(name or "").strip(),
        role=role,
        organization=organization,
        contact_name=contact_name,
        contact_email=contact_email,
        responsibility_share=share,
        responsibilities=responsibilities,
        created_by=history_user(actor),
    )
    full_clean(stakeholder)
    _check_total(use_case, share)
    tracked_save(stakeholder, actor=actor, reason="stakeholder added")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="stakeholder.add",
        description=f"{stakeholder.name} ({role}) takes {share}% of {use_case.public_id}",
        subject=stakeholder,
        changes=jsonable({"role": role, "share": share, "use_case": use_case}),
    )
    return stakeholder


@transaction.atomic
def stakeholder_update(*, actor, stakeholder: Stakeholder, **changes) -> Stakeholder:
    """Change a party's details or share."""
    require(actor, stakeholder.project, Perm.REGISTRY_EDIT)
    AIUseCase.objects.select_for_update().filter(pk=stakeholder.use_case_id).first()
    stakeholder = Stakeholder.objects.select_for_update().get(pk=stakeholder.pk)
    if not stakeholder.is_active:
        raise InvalidTransition(f"{stakeholder.public_id} is no longer active.")
    if "responsibility_share" in changes:
        changes["responsibility_share"] = _share(changes["responsibility_share"])
    diff = apply_changes(stakeholder, changes, STAKEHOLDER_EDITABLE)
    if not diff:
        return stakeholder
    full_clean(stakeholder)
    _check_total(stakeholder.use_case, stakeholder.responsibility_share, exclude_pk=stakeholder.pk)
    tracked_save(stakeholder, actor=actor, reason="stakeholder updated")
    record_governance(
        actor=actor,
        project=stakeholder.project,
        action_type="stakeholder.update",
        description=f"{stakeholder.public_id} updated",
        subject=stakeholder,
        changes=diff,
    )
    return stakeholder


@transaction.atomic
def stakeholder_set_shares(*, actor, use_case: AIUseCase, shares: dict[str, object]) -> list[Stakeholder]:
    """Re-allocate every active party's share at once; the new shares must total exactly 100 %."""
    require(actor, use_case.project, Perm.REGISTRY_EDIT)
    AIUseCase.objects.select_for_update().filter(pk=use_case.pk).first()
    active = {s.public_id: s for s in Stakeholder.objects.select_for_update().filter(use_case=use_case, is_active=True)}
    if set(shares) != set(active):
        missing, unknown = sorted(set(active) - set(shares)), sorted(set(shares) - set(active))
        detail = []
        if missing:
            detail.append(f"missing {', '.join(missing)}")
        if unknown:
            detail.append(f"not active parties of {use_case.public_id}: {', '.join(unknown)}")
        raise ValidationFailed({"shares": [f"Give a share for every active party ({'; '.join(detail)})."]})
    parsed = {pid: _share(value) for pid, value in shares.items()}
    total = sum(parsed.values(), Decimal(0))
    if total != HUNDRED:
        raise ValidationFailed({"shares": [f"The shares total {total}%; they must total exactly 100%."]})
    diff = {}
    for pid, share in parsed.items():
        party = active[pid]
        if party.responsibility_share != share:
            diff[pid] = [str(party.responsibility_share), str(share)]
            party.responsibility_share = share
            tracked_save(party, actor=actor, reason="shares re-allocated")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="stakeholder.reallocate",
        description=f"Responsibility shares of {use_case.public_id} re-allocated",
        subject=use_case,
        changes=diff,
    )
    return list(active.values())


@transaction.atomic
def stakeholder_deactivate(*, actor, stakeholder: Stakeholder, reason: str) -> Stakeholder:
    """End a party's involvement; its share is released and its record kept."""
    require(actor, stakeholder.project, Perm.REGISTRY_EDIT)
    stakeholder = Stakeholder.objects.select_for_update().get(pk=stakeholder.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the party leaves."]})
    if not stakeholder.is_active:
        raise InvalidTransition(f"{stakeholder.public_id} is already inactive.")
    stakeholder.is_active = False
    tracked_save(stakeholder, actor=actor, reason="stakeholder deactivated")
    record_governance(
        actor=actor,
        project=stakeholder.project,
        action_type="stakeholder.deactivate",
        description=f"{stakeholder.public_id} ({stakeholder.name}) deactivated",
        subject=stakeholder,
        rationale=reason,
    )
    return stakeholder


@transaction.atomic
def obligation_add(
    *,
    actor,
    stakeholder: Stakeholder,
    description: str,
    sla_metric: str = "",
    sla_target=None,
    contract_reference: str = "",
) -> ContractualObligation:
    """Record a contractual obligation (with an optional SLA metric and target) of a party."""
    require(actor, stakeholder.project, Perm.REGISTRY_EDIT)
    stakeholder = Stakeholder.objects.select_for_update().get(pk=stakeholder.pk)
    if not stakeholder.is_active:
        raise InvalidTransition(f"{stakeholder.public_id} is no longer active.")
    if sla_metric and sla_target in (None, ""):
        raise ValidationFailed({"sla_target": ["An SLA metric needs a target."]})
    obligation = ContractualObligation(
        project=stakeholder.project,
        stakeholder=stakeholder,
        description=(description or "").strip(),
        sla_metric=sla_metric,
        sla_target=None if sla_target in (None, "") else sla_target,
        contract_reference=contract_reference,
        created_by=history_user(actor),
    )
    full_clean(obligation)
    tracked_save(obligation, actor=actor, reason="obligation added")
    record_governance(
        actor=actor,
        project=stakeholder.project,
        action_type="obligation.add",
        description=f"{obligation.public_id} added for {stakeholder.name}",
        subject=obligation,
        changes=jsonable(
            {"description": obligation.description, "sla_metric": sla_metric, "sla_target": obligation.sla_target}
        ),
    )
    return obligation


@transaction.atomic
def obligation_set_status(
    *, actor, obligation: ContractualObligation, status: str, note: str = ""
) -> ContractualObligation:
    """Move an obligation along its guarded status transitions (ended is final)."""
    require(actor, obligation.project, Perm.REGISTRY_EDIT)
    obligation = ContractualObligation.objects.select_for_update().get(pk=obligation.pk)
    if status not in ContractualObligation.Status.values:
        raise ValidationFailed({"status": [f"Must be one of: {', '.join(ContractualObligation.Status.values)}."]})
    if status not in OBLIGATION_TRANSITIONS[obligation.status]:
        raise InvalidTransition(f"{obligation.public_id} cannot move from {obligation.status} to {status}.")
    if status in ("breached", "waived") and not (note or "").strip():
        raise ValidationFailed({"note": [f"Explain why the obligation is {status}."]})
    old = obligation.status
    obligation.status, obligation.status_note = status, note.strip()
    tracked_save(obligation, actor=actor, reason=f"{old} -> {status}")
    record_governance(
        actor=actor,
        project=obligation.project,
        action_type="obligation.set_status",
        description=f"{obligation.public_id} {old} -> {status}",
        subject=obligation,
        changes={"status": [old, status]},
        rationale=note,
    )
    return obligation
