"""Model cards (versioned, immutable once published) and the M-26-04 vendor artefacts."""

import pytest

from accountability.exceptions import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from accountability.models import ModelCard, VendorArtefacts
from accountability.services import evidence_cards as svc
from tests.factories import UseCaseFactory
from tests.ledger_reads import integrated

from .factories import COMPLETE_CARD, ModelCardFactory, VendorArtefactsFactory

pytestmark = pytest.mark.django_db


def test_create_edit_publish_and_supersede(staff_user, caio_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    card = svc.model_card_create(
        actor=staff_user, use_case=uc, model_name="screener-gbm", model_version="2.1", intended_use="Rank."
    )
    assert (card.public_id, card.version, card.status, card.project) == (f"MC-{card.pk:05d}", 1, "draft", project)
    with pytest.raises(ValidationFailed) as exc:
        svc.model_card_publish(actor=caio_user, card=card)
    assert sorted(exc.value.errors) == [
        "contact",
        "ethical_considerations",
        "evaluation",
        "limitations",
        "training_data",
    ]
    card = svc.model_card_update_draft(actor=staff_user, card=card, **COMPLETE_CARD)
    published = svc.model_card_publish(actor=caio_user, card=card)
    assert (published.status, published.published_by) == ("published", caio_user)
    assert ledger_count() == before + 3

    v2 = svc.model_card_new_version(actor=staff_user, card=published, change_summary="Retrained", model_version="2.2")
    assert (v2.version, v2.status, v2.model_version, v2.intended_use) == (
        2,
        "draft",
        "2.2",
        COMPLETE_CARD["intended_use"],
    )
    svc.model_card_publish(actor=caio_user, card=v2)
    published.refresh_from_db()
    assert (published.status, published.closed_at is not None) == ("superseded", True)
    assert list(ModelCard.objects.filter(use_case=uc).values_list("version", "status")) == [
        (1, "superseded"),
        (2, "published"),
    ]
    entry = integrated().last()
    assert entry.action_type == "model_card.publish"
    assert entry.document["action"]["description"].endswith(f"; {published.public_id} superseded")


def test_published_and_superseded_versions_are_immutable(staff_user, caio_user, project, ledger_count):
    card = ModelCardFactory(use_case__project=project, published=True)
    before = ledger_count()
    with pytest.raises(InvalidTransition, match="only a draft can be edited"):
        svc.model_card_update_draft(actor=staff_user, card=card, limitations="Changed")
    with pytest.raises(InvalidTransition, match="only a draft can be published"):
        svc.model_card_publish(actor=caio_user, card=card)
    with pytest.raises(InvalidTransition, match="only a draft can be discarded"):
        svc.model_card_discard(actor=staff_user, card=card, reason="r")
    card.refresh_from_db()
    assert (card.limitations, card.status, card.history.count()) == (COMPLETE_CARD["limitations"], "published", 1)
    assert ledger_count() == before


def test_author_cannot_publish_own_version(staff_user, project):
    card = ModelCardFactory(use_case__project=project, created_by=staff_user)
    with pytest.raises(NotAllowed, match="Separation of duties"):
        svc.model_card_publish(actor=staff_user, card=card)
    card.refresh_from_db()
    assert card.status == "draft"


def test_one_card_per_model_and_one_draft_at_a_time(staff_user, project):
    card = ModelCardFactory(use_case__project=project, published=True)
    with pytest.raises(Conflict, match="already has a card for screener-gbm"):
        svc.model_card_create(actor=staff_user, use_case=card.use_case, model_name="screener-gbm", model_version="3")
    svc.model_card_new_version(actor=staff_user, card=card, change_summary="c", limitations="More")
    with pytest.raises(Conflict, match=r"\(card v2\) is a draft"):
        svc.model_card_new_version(actor=staff_user, card=card, change_summary="c", limitations="Even more")
    with pytest.raises(ValidationFailed, match="change_summary"):
        svc.model_card_new_version(actor=staff_user, card=card, change_summary=" ")


def test_a_version_must_change_something_and_discard_keeps_the_row(staff_user, caio_user, project):
    card = ModelCardFactory(use_case__project=project, published=True)
    draft = svc.model_card_new_version(actor=staff_user, card=card, change_summary="c")
    with pytest.raises(ValidationFailed, match=f"The draft changes nothing from {card.public_id}"):
        svc.model_card_publish(actor=caio_user, card=draft)
    draft = svc.model_card_update_draft(actor=staff_user, card=draft, evaluation="New eval")
    with pytest.raises(ValidationFailed, match="reason"):
        svc.model_card_discard(actor=staff_user, card=draft, reason="")
    discarded = svc.model_card_discard(actor=staff_user, card=draft, reason="Superseded by retraining plan")
    assert discarded.status == "discarded"
    assert ModelCard.objects.filter(use_case=card.use_case).count() == 2


def test_bad_card_input_writes_nothing(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.model_card_create(actor=staff_user, use_case=uc, model_name="", model_version="", card_url="not a url")
    assert set(exc.value.errors) == {"model_name", "model_version", "card_url"}
    with pytest.raises(ValidationFailed, match="Unknown field"):
        svc.model_card_create(actor=staff_user, use_case=uc, model_name="m", model_version="1", colour="red")
    retired = UseCaseFactory(project=project, stage="retired")
    with pytest.raises(ValidationFailed, match="is retired"):
        svc.model_card_create(actor=staff_user, use_case=retired, model_name="m", model_version="1")
    assert (ModelCard.objects.count(), ledger_count()) == (0, before)


def test_vendor_artefacts_record_update_and_review(staff_user, caio_user, project, ledger_count):
    uc = UseCaseFactory(project=project, is_llm_procured=True, is_generative=True, vendor_name="Northwind")
    before = ledger_count()
    record = svc.vendor_artefacts_record(
        actor=staff_user,
        use_case=uc,
        acceptable_use_policy_url="https://vendor.example.com/aup",
        model_card_url="https://vendor.example.com/card",
    )
    assert (record.vendor_name, record.artefacts_supplied) == ("Northwind", 2)
    same = svc.vendor_artefacts_record(
        actor=staff_user, use_case=uc, end_user_resources_url="https://v.example.com/help"
    )
    assert (same.pk, same.artefacts_supplied) == (record.pk, 3)
    assert svc.vendor_artefacts_record(actor=staff_user, use_case=uc, vendor_name="Northwind") == same  # no change
    reviewed = svc.vendor_artefacts_review_card(actor=caio_user, artefacts=same, notes="Limitations documented.")
    assert (reviewed.card_reviewed_by, reviewed.card_review_notes) == (caio_user, "Limitations documented.")
    # A different card has not been reviewed.
    changed = svc.vendor_artefacts_record(actor=staff_user, use_case=uc, model_card_url="https://vendor.example.com/v2")
    assert changed.card_reviewed_at is None
    assert ledger_count() == before + 4
    assert VendorArtefacts.objects.count() == 1


def test_vendor_artefacts_only_for_procured_llms_and_review_needs_a_card(staff_user, project):
    uc = UseCaseFactory(project=project)
    with pytest.raises(ValidationFailed, match="not marked as a procured LLM"):
        svc.vendor_artefacts_record(actor=staff_user, use_case=uc, vendor_name="V")
    record = VendorArtefactsFactory(use_case__project=project, model_card_url="")
    with pytest.raises(InvalidTransition, match="no model or system card"):
        svc.vendor_artefacts_review_card(actor=staff_user, artefacts=record, notes="n")


def test_artefact_count_is_a_queryset_annotation(project):
    VendorArtefactsFactory(use_case__project=project, end_user_resources_url="https://v.example.com/help")
    VendorArtefactsFactory(use_case__project=project, acceptable_use_policy_url="", model_card_url="")
    counts = sorted(VendorArtefacts.objects.with_artefact_count().values_list("artefact_count", flat=True))
    assert counts == [0, 3]
    assert VendorArtefacts.objects.with_artefact_count().filter(artefact_count__gte=2).count() == 1
