"""Feedback channels and items: reachability, the stored triage deadline, one triage per item."""

import datetime as dt

import pytest
import time_machine

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.models import FeedbackChannel, FeedbackItem
from accountability.selectors import evidence as sel
from accountability.services import evidence_feedback as svc
from tests.factories import UseCaseFactory

from .factories import FeedbackChannelFactory, FeedbackItemFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_channel_item_and_triage(staff_user, auditor_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    channel = svc.feedback_channel_create(
        actor=staff_user,
        use_case=uc,
        name="Chatbot thumbs-down",
        method="in_app",
        audience="end_users",
        contact="ux@agency.gov",
    )
    item = svc.feedback_item_record(
        actor=staff_user,
        channel=channel,
        category="error",
        summary="Cited a retired form.",
        received_at=NOW - dt.timedelta(days=2),
    )
    assert (item.status, item.use_case, item.triage_due_at) == ("received", uc, NOW + dt.timedelta(days=28))
    listed = sel.feedback_channel_list(auditor_user).get()
    assert (listed.item_count, listed.open_item_count) == (1, 1)
    item = svc.feedback_item_triage(
        actor=staff_user, item=item, outcome="corrected", note="Link fixed in the knowledge base."
    )
    assert (item.status, item.triaged_by, item.outcome, item.triaged_at) == ("triaged", staff_user, "corrected", NOW)
    with pytest.raises(InvalidTransition, match="already triaged"):
        svc.feedback_item_triage(actor=staff_user, item=item, outcome="no_action")
    assert sel.feedback_channel_list(auditor_user).get().open_item_count == 0
    assert ledger_count() == before + 3


def test_channel_needs_a_way_in_and_a_known_method(staff_user, project, ledger_count):
    uc = UseCaseFactory(project=project)
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.feedback_channel_create(actor=staff_user, use_case=uc, name="Form", method="web_form")
    assert exc.value.errors == {"non_field_errors": ["Give the channel's URL or a contact (e-mail, phone, office)."]}
    with pytest.raises(ValidationFailed) as exc:
        svc.feedback_channel_create(
            actor=staff_user, use_case=uc, name="", method="carrier_pigeon", url="https://x.gov"
        )
    assert set(exc.value.errors) == {"name", "method"}
    assert (FeedbackChannel.objects.count(), ledger_count()) == (0, before)


def test_closed_channels_take_no_items_and_escalations_say_where(staff_user, project):
    channel = FeedbackChannelFactory(use_case__project=project)
    item = FeedbackItemFactory(channel=channel)
    with pytest.raises(ValidationFailed, match="note"):
        svc.feedback_item_triage(actor=staff_user, item=item, outcome="escalated_incident")
    with pytest.raises(ValidationFailed, match="outcome"):
        svc.feedback_item_triage(actor=staff_user, item=item, outcome="shrug")
    with pytest.raises(ValidationFailed) as exc:
        svc.feedback_item_record(
            actor=staff_user, channel=channel, category="error", summary="x", received_at=NOW + dt.timedelta(hours=1)
        )
    assert exc.value.errors == {"received_at": ["Cannot be in the future."]}
    svc.feedback_channel_deactivate(actor=staff_user, channel=channel, reason="Moved to the new portal")
    with pytest.raises(InvalidTransition, match="is closed"):
        svc.feedback_item_record(actor=staff_user, channel=channel, category="error", summary="x")
    # An item received before the channel closed can still be triaged.
    assert (
        svc.feedback_item_triage(actor=staff_user, item=item, outcome="escalated_incident", note="INC-00012").status
        == "triaged"
    )
    with pytest.raises(InvalidTransition, match="already inactive"):
        svc.feedback_channel_deactivate(actor=staff_user, channel=channel, reason="again")
    assert FeedbackItem.objects.count() == 1
