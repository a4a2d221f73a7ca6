"""Outgoing webhooks: HMAC-SHA256 signatures a receiver can verify, retries with exponential backoff from
the delivery log, giving up after the configured attempts, and idempotent emission."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
import time_machine

from accountability.exceptions import InvalidTransition, ValidationFailed
from accountability.models import Incident, WebhookDelivery
from accountability.services import webhooks as svc
from accountability.services.incidents import incident_log
from accountability.tasks import webhook_dispatch_due_task

from .factories import WebhookFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does (documented in the README)."""
    parts = dict(p.split("=", 1) for p in headers["X-Icdev-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_signed_delivery_is_verifiable(receiver, project, responder_user, django_capture_on_commit_callbacks):
    rx = receiver(200)
    hook = WebhookFactory(project=project, url=rx.url, events=["incident.logged"])
    with django_capture_on_commit_callbacks(execute=True):
        incident_log(actor=responder_user, project=project, title="Leak", severity="critical")
    assert len(rx.requests) == 1
    request = rx.requests[0]
    assert verify(hook.secret, request["headers"], request["body"])
    assert not verify("wrong-secret", request["headers"], request["body"])
    assert not verify(hook.secret, request["headers"], request["body"] + b" ")
    payload = json.loads(request["body"])
    incident_id = Incident.objects.get().public_id
    assert (payload["event"], payload["project"], payload["data"]["id"]) == ("incident.logged", "proj-123", incident_id)
    assert request["headers"]["X-Icdev-Event"] == "incident.logged"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert request["headers"]["X-Icdev-Delivery"] == f"{hook.public_id}:{delivery.pk}"


def test_sign_is_hmac_sha256_over_timestamp_and_body():
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert svc.sign("k", 1700000000, b"{}") == f"t=1700000000,v1={expected}"


def test_backoff_doubles_up_to_the_cap():
    assert [svc.backoff_seconds(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_retries_with_backoff_then_delivers(receiver, project):
    rx = receiver(500, 503)
    hook = WebhookFactory(project=project, url=rx.url)
    delivery = WebhookDelivery.objects.create(
        webhook=hook, project=project, event="webhook.ping", payload={"x": 1}, dedupe_key="k", next_attempt_at=T0
    )
    with time_machine.travel(T0, tick=False):
        outcome = svc.webhook_deliver(delivery_id=delivery.pk)
        assert (outcome.status, outcome.status_code, outcome.next_attempt_at) == (
            "retry",
            500,
            T0 + dt.timedelta(seconds=60),
        )
        assert svc.webhook_deliver(delivery_id=delivery.pk).status == "skipped"  # not due yet
    with time_machine.travel(T0 + dt.timedelta(seconds=60), tick=False):
        outcome = svc.webhook_deliver(delivery_id=delivery.pk)
        assert (outcome.status, outcome.next_attempt_at) == ("retry", T0 + dt.timedelta(seconds=60 + 120))
    with time_machine.travel(T0 + dt.timedelta(seconds=180), tick=False):
        assert webhook_dispatch_due_task() == 1  # the beat dispatcher picks the retry up
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [a["status_code"] for a in delivery.attempt_log] == [500, 503, 200]
    assert len(rx.requests) == 3
    assert svc.webhook_deliver(delivery_id=delivery.pk).status == "skipped"  # delivered: never again


def test_gives_up_after_max_attempts_and_can_be_retried(
    receiver, project, staff_user, django_capture_on_commit_callbacks
):
    rx = receiver(*([500] * 6))
    hook = WebhookFactory(project=project, url=rx.url)
    delivery = WebhookDelivery.objects.create(
        webhook=hook, project=project, event="webhook.ping", payload={}, dedupe_key="k", next_attempt_at=T0
    )
    when = T0
    for _ in range(6):
        with time_machine.travel(when, tick=False):
            outcome = svc.webhook_deliver(delivery_id=delivery.pk)
        when = outcome.next_attempt_at or when
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(delivery.attempt_log)) == ("failed", 6, 6)
    with django_capture_on_commit_callbacks(execute=True):
        svc.webhook_delivery_retry(actor=staff_user, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(delivery.attempt_log)) == ("delivered", 1, 7)


def test_unreachable_endpoint_is_logged(project):
    hook = WebhookFactory(project=project, url="http://127.0.0.1:9/nothing-listens")
    delivery = WebhookDelivery.objects.create(
        webhook=hook, project=project, event="webhook.ping", payload={}, dedupe_key="k", next_attempt_at=T0
    )
    with time_machine.travel(T0, tick=False):
        outcome = svc.webhook_deliver(delivery_id=delivery.pk)
    assert outcome.status == "retry"
    assert outcome.status_code is None
    assert outcome.error


def test_redirects_are_not_followed(receiver, project):
    rx = receiver(302)
    hook = WebhookFactory(project=project, url=rx.url)
    delivery = WebhookDelivery.objects.create(
        webhook=hook, project=project, event="webhook.ping", payload={}, dedupe_key="k", next_attempt_at=T0
    )
    with time_machine.travel(T0, tick=False):
        assert svc.webhook_deliver(delivery_id=delivery.pk).status == "retry"
    assert len(rx.requests) == 1


def test_emission_is_deduplicated_and_filtered_by_subscription(project, other_project):
    all_events = WebhookFactory(project=project)
    WebhookFactory(project=project, events=["reassessment.due"])
    WebhookFactory(project=project, is_active=False)
    WebhookFactory(project=other_project)
    event = svc.Event(project.pk, project.key, "incident.logged", {"id": "INC-00001"}, "incident.logged:1")
    assert svc.webhook_emit([event]) == 1
    svc.webhook_emit([event])
    assert list(WebhookDelivery.objects.values_list("webhook", flat=True)) == [all_events.pk]


def test_webhook_configuration_is_validated(project, staff_user, settings, ledger_count):
    before = ledger_count()
    with pytest.raises(ValidationFailed) as exc:
        svc.webhook_create(actor=staff_user, project=project, name="x", url="ftp://example.gov/x")
    assert "url" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        svc.webhook_create(actor=staff_user, project=project, name="x", url="https://x.gov", events=["nope"])
    assert "events" in exc.value.errors
    settings.ICDEV_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationFailed):
        svc.webhook_create(actor=staff_user, project=project, name="x", url="http://x.gov/h")
    assert ledger_count() == before
    hook = svc.webhook_create(actor=staff_user, project=project, name="SIEM", url="https://siem.example.gov/h")
    assert len(hook.secret) >= 40
    assert ledger_count() == before + 1
    assert not {"secret", "secret_encrypted"} & {f.name for f in hook.history.model._meta.fields}


def test_ping_needs_an_active_webhook(project, staff_user):
    hook = WebhookFactory(project=project, is_active=False)
    with pytest.raises(InvalidTransition):
        svc.webhook_send_test(actor=staff_user, webhook=hook)
