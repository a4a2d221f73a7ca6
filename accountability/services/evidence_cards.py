"""Model cards (versioned: draft -> published -> superseded) and the M-26-04 vendor artefacts of procured LLMs.

draft --publish--> published --(a newer version is published)--> superseded; draft --discard--> discarded.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accountability.actors import history_user, is_system
from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.ledger.append import record_governance
from accountability.models import AIUseCase, ModelCard, VendorArtefacts
from accountability.permissions import Perm, require
from accountability.rules.evidence import card_completeness

from ._common import apply_changes, full_clean, jsonable, tracked_save
from ._evidence_common import require_on_use_case, unknown_fields

Status = ModelCard.Status
SECTION_FIELDS = tuple(f for f in ModelCard.CONTENT_FIELDS if f != "model_version")


def _content(card: ModelCard) -> dict:
    return {name: getattr(card, name) for name in ModelCard.CONTENT_FIELDS}


@transaction.atomic
def model_card_create(
    *, actor, use_case: AIUseCase, model_name: str, model_version: str, change_summary: str = "", **sections
) -> ModelCard:
    """Draft version 1 of the card of a model used by the use case."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    unknown_fields(sections, SECTION_FIELDS)
    model_name = (model_name or "").strip()
    if model_name and ModelCard.objects.filter(use_case=use_case, model_name=model_name).exists():
        raise Conflict(f"{use_case.public_id} already has a card for {model_name}; insert a new version instead.")
    card = ModelCard(
        project=use_case.project,
        use_case=use_case,
        model_name=model_name,
        model_version=(model_version or "").strip(),
        version=1,
        status=Status.DRAFT,
        change_summary=(change_summary or "").strip() or "Initial version",
        created_by=history_user(actor),
        **{k: (v.strip() if isinstance(v, str) else v) for k, v in sections.items()},
    )
    full_clean(card)
    tracked_save(card, actor=actor, reason="model card v1 drafted")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="model_card.create",
        description=f"{card.public_id}: card v1 of {model_name} {card.model_version} for {use_case.public_id} drafted",
        subject=card,
        changes=jsonable({"model_name": model_name, **_content(card)}),
    )
    return card


@transaction.atomic
def model_card_update_draft(*, actor, card: ModelCard, **changes) -> ModelCard:
    """Change the content of a draft card (published versions are immutable)."""
    require(actor, card.project, Perm.EVIDENCE_EDIT)
    card = ModelCard.objects.select_for_update().get(pk=card.pk)
    if card.status != Status.DRAFT:
        raise InvalidTransition(f"{card.public_id} is {card.status}; only a draft can be edited.")
    diff = apply_changes(
        card,
        {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()},
        set(ModelCard.CONTENT_FIELDS) | {"change_summary"},
    )
    if not diff:
        return card
    full_clean(card)
    tracked_save(card, actor=actor, reason="model card draft edited")
    record_governance(
        actor=actor,
        project=card.project,
        action_type="model_card.update_draft",
        description=f"{card.public_id} (card v{card.version}) draft edited",
        subject=card,
        changes=diff,
    )
    return card


@transaction.atomic
def model_card_new_version(*, actor, card: ModelCard, change_summary: str, **changes) -> ModelCard:
    """Insert version n+1 as a draft from the published (or latest) content with ``changes`` applied."""
    require_on_use_case(actor, card.use_case, Perm.EVIDENCE_EDIT)
    unknown_fields(changes, ModelCard.CONTENT_FIELDS)
    if not (change_summary or "").strip():
        raise ValidationFailed({"change_summary": ["Say what this version changes."]})
    AIUseCase.objects.select_for_update().filter(pk=card.use_case_id).first()  # serialise versions per use case
    versions = ModelCard.objects.filter(use_case=card.use_case_id, model_name=card.model_name).order_by("-version")
    draft = versions.filter(status=Status.DRAFT).first()
    if draft is not None:
        raise Conflict(f"{draft.public_id} (card v{draft.version}) is a draft; publish or discard it first.")
    base = versions.filter(status=Status.PUBLISHED).first() or versions.first()
    content = {**_content(base), **{k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}}
    new = ModelCard(
        project=card.project,
        use_case=card.use_case,
        model_name=card.model_name,
        version=versions.first().version + 1,
        status=Status.DRAFT,
        change_summary=change_summary.strip(),
        created_by=history_user(actor),
        **content,
    )
    full_clean(new)
    tracked_save(new, actor=actor, reason=f"model card v{new.version} drafted")
    record_governance(
        actor=actor,
        project=card.project,
        action_type="model_card.new_version",
        description=f"{new.public_id}: card v{new.version} of {new.model_name} drafted",
        subject=new,
        changes={k: [jsonable(getattr(base, k)), jsonable(v)] for k, v in content.items() if getattr(base, k) != v},
        rationale=change_summary,
    )
    return new


@transaction.atomic
def model_card_publish(*, actor, card: ModelCard) -> ModelCard:
    """Publish a complete draft, superseding the published version; its author never publishes it."""
    require(actor, card.project, Perm.EVIDENCE_APPROVE, "Only governance staff or the CAIO publish model cards.")
    AIUseCase.objects.select_for_update().filter(pk=card.use_case_id).first()
    card = ModelCard.objects.get(pk=card.pk)
    if card.status != Status.DRAFT:
        raise InvalidTransition(f"{card.public_id} is {card.status}; only a draft can be published.")
    if not is_system(actor) and card.created_by_id == actor.pk:
        raise NotAllowed("Separation of duties: the author of a model card version cannot publish it.")
    report = card_completeness(card)
    if not report["complete"]:
        raise ValidationFailed({name: ["Required before the card is published."] for name in report["missing"]})
    now = timezone.now()
    previous = ModelCard.objects.filter(
        use_case=card.use_case_id, model_name=card.model_name, status=Status.PUBLISHED
    ).first()
    if previous is not None and _content(previous) == _content(card):
        raise ValidationFailed({"non_field_errors": [f"The draft changes nothing from {previous.public_id}."]})
    if previous is not None:
        previous.status, previous.closed_at = Status.SUPERSEDED, now
        tracked_save(previous, actor=actor, reason=f"superseded by card v{card.version}")
    card.status, card.published_by, card.published_at = Status.PUBLISHED, history_user(actor), now
    tracked_save(card, actor=actor, reason="model card published")
    record_governance(
        actor=actor,
        project=card.project,
        action_type="model_card.publish",
        description=f"{card.public_id} (card v{card.version} of {card.model_name}) published"
        + (f"; {previous.public_id} superseded" if previous else ""),
        subject=card,
        changes={"published_version": card.version, "superseded": previous.public_id if previous else None},
    )
    return card


@transaction.atomic
def model_card_discard(*, actor, card: ModelCard, reason: str) -> ModelCard:
    """Discard a draft that will not be published (it stays readable)."""
    require(actor, card.project, Perm.EVIDENCE_EDIT)
    card = ModelCard.objects.select_for_update().get(pk=card.pk)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the draft is discarded."]})
    if card.status != Status.DRAFT:
        raise InvalidTransition(f"{card.public_id} is {card.status}; only a draft can be discarded.")
    card.status, card.closed_at = Status.DISCARDED, timezone.now()
    tracked_save(card, actor=actor, reason="model card draft discarded")
    record_governance(
        actor=actor,
        project=card.project,
        action_type="model_card.discard",
        description=f"{card.public_id} (card v{card.version}) discarded",
        subject=card,
        rationale=reason.strip(),
    )
    return card


# --- M-26-04 vendor artefacts ------------------------------------------------------------------------

VENDOR_FIELDS = {
    "vendor_name",
    "contract_reference",
    *VendorArtefacts.ARTEFACT_FIELDS,
    "is_embedded_llm",
    "development_info_url",
}


@transaction.atomic
def vendor_artefacts_record(*, actor, use_case: AIUseCase, **fields) -> VendorArtefacts:
    """Record (or update) what the vendor of a procured LLM supplied; URLs left blank are not supplied."""
    require_on_use_case(actor, use_case, Perm.EVIDENCE_EDIT)
    unknown_fields(fields, VENDOR_FIELDS)
    if not use_case.is_llm_procured:
        raise ValidationFailed({"use_case": [f"{use_case.public_id} is not marked as a procured LLM (M-26-04 scope)."]})
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    artefacts = VendorArtefacts.objects.select_for_update().filter(use_case=use_case).first()
    created = artefacts is None
    if created:
        if not fields.get("vendor_name"):
            fields["vendor_name"] = use_case.vendor_name
        artefacts = VendorArtefacts(project=use_case.project, use_case=use_case, created_by=history_user(actor))
    diff = apply_changes(artefacts, fields, VENDOR_FIELDS)
    if not created and not diff:
        return artefacts
    if not created and "model_card_url" in diff and artefacts.card_reviewed_at is not None:
        # A different card has not been reviewed yet.
        artefacts.card_reviewed_at, artefacts.card_reviewed_by, artefacts.card_review_notes = None, None, ""
    full_clean(artefacts)
    tracked_save(artefacts, actor=actor, reason="vendor artefacts recorded" if created else "vendor artefacts updated")
    record_governance(
        actor=actor,
        project=use_case.project,
        action_type="vendor_artefacts.record",
        description=f"{artefacts.public_id}: {artefacts.artefacts_supplied}/4 M-26-04 artefacts on file for "
        f"{use_case.public_id}",
        subject=artefacts,
        changes=diff,
    )
    return artefacts


@transaction.atomic
def vendor_artefacts_review_card(*, actor, artefacts: VendorArtefacts, notes: str) -> VendorArtefacts:
    """Record that the agency reviewed the vendor's model or system card (NIST AI 600-1 MG-3.1-005)."""
    require(actor, artefacts.project, Perm.EVIDENCE_APPROVE)
    artefacts = VendorArtefacts.objects.select_for_update().get(pk=artefacts.pk)
    if not artefacts.model_card_url:
        raise InvalidTransition(f"{artefacts.public_id} has no model or system card to review.")
    if not (notes or "").strip():
        raise ValidationFailed({"notes": ["Summarise the review."]})
    artefacts.card_reviewed_at, artefacts.card_reviewed_by = timezone.now(), history_user(actor)
    artefacts.card_review_notes = notes.strip()
    tracked_save(artefacts, actor=actor, reason="vendor card reviewed")
    record_governance(
        actor=actor,
        project=artefacts.project,
        action_type="vendor_artefacts.review_card",
        description=f"{artefacts.public_id}: vendor card reviewed",
        subject=artefacts,
        rationale=notes.strip(),
    )
    return artefacts
