"""The inbox and its e-mail copy: at most one e-mail per message, bulk sends deduplicated, the admin header
count, and a pending e-mail left by a lost task is sent by the dispatcher."""

from __future__ import annotations

import pytest
from django.core import mail

from accountability.models import Notification
from accountability.services import notifications as svc
from accountability.tasks import notification_email_dispatch_task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_send_puts_one_message_per_recipient_and_emails_after_commit(staff_user, django_capture_on_commit_callbacks):
    other = UserFactory(username="other", email="")
    with django_capture_on_commit_callbacks(execute=True):
        sent = svc.notification_send(
            recipients=[staff_user, other, staff_user], kind="k", subject="Hello", dedupe_key="d1"
        )
    assert len(sent) == 2
    assert [m.to for m in mail.outbox] == [[staff_user.email]]
    note = Notification.objects.get(recipient=staff_user)
    assert (note.email_status, note.emailed_at is not None) == ("sent", True)
    assert Notification.objects.get(recipient=other).email_status == ""
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.notification_send(recipients=[staff_user], kind="k", subject="Hello", dedupe_key="d1") == []
    assert len(mail.outbox) == 1


def test_email_is_sent_at_most_once(staff_user):
    note = Notification.objects.create(recipient=staff_user, kind="k", subject="S", email_status="pending")
    assert svc.notification_email_send(notification_id=note.pk) is True
    assert svc.notification_email_send(notification_id=note.pk) is False
    assert len(mail.outbox) == 1


def test_failed_email_is_recorded_not_retried(staff_user, settings):
    settings.EMAIL_BACKEND = "tests.incidents.test_notifications.BrokenBackend"
    note = Notification.objects.create(recipient=staff_user, kind="k", subject="S", email_status="pending")
    assert svc.notification_email_send(notification_id=note.pk) is False
    note.refresh_from_db()
    assert note.email_status == "failed"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP server is down")


def test_dispatcher_sends_what_a_lost_task_left(staff_user, caio_user):
    Notification.objects.create(recipient=staff_user, kind="k", subject="A", email_status="pending")
    Notification.objects.create(recipient=caio_user, kind="k", subject="B", email_status="pending")
    Notification.objects.create(recipient=caio_user, kind="k", subject="C", email_status="sent")
    assert notification_email_dispatch_task() == 2
    assert notification_email_dispatch_task() == 0
    assert sorted(m.subject for m in mail.outbox) == ["A", "B"]


def test_bulk_send_skips_known_keys_and_inactive_users(staff_user, project):
    inactive = UserFactory(username="gone", is_active=False)
    messages = [
        svc.Message(staff_user.pk, "k", "one", project_id=project.pk, dedupe_key="a"),
        svc.Message(staff_user.pk, "k", "one again", project_id=project.pk, dedupe_key="a"),
        svc.Message(inactive.pk, "k", "nobody", dedupe_key="a"),
    ]
    assert svc.notification_send_bulk(messages) == 1
    assert svc.notification_send_bulk(messages) == 0
    assert list(Notification.objects.values_list("subject", flat=True)) == ["one"]


def test_admin_header_shows_the_unread_count(client, staff_user):
    Notification.objects.create(recipient=staff_user, kind="k", subject="Unread one")
    Notification.objects.create(recipient=staff_user, kind="k", subject="Unread two")
    client.force_login(staff_user)
    page = client.get("/admin/").content.decode()
    assert 'id="icdev-inbox">Notifications <strong>(2)</strong>' in page


def test_mark_all_read_only_touches_the_actors_inbox(staff_user, caio_user):
    Notification.objects.create(recipient=staff_user, kind="k", subject="mine")
    Notification.objects.create(recipient=caio_user, kind="k", subject="theirs")
    assert svc.notification_mark_all_read(actor=staff_user) == 1
    assert Notification.objects.get(recipient=caio_user).read_at is None
