"""Webhook signing secrets encrypted at rest: the database holds only Fernet tokens, deliveries are signed
as before, keys rotate with ``rotate_webhook_keys``, an undecryptable secret fails one attempt (not the
sweep) and the command (writing nothing), production refuses the development key, and migration 0007
encrypts existing secrets in place and its reverse decrypts them."""

from __future__ import annotations

import importlib
import json
import logging
from io import StringIO
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps as django_apps
from django.conf import settings as conf
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accountability.actors import SystemActor
from accountability.exceptions import NotAllowed, SecretUndecryptable
from accountability.ledger.models import LedgerEntry, PendingEntry
from accountability.models import Webhook, WebhookDelivery
from accountability.services import webhooks as svc
from accountability.tasks import webhook_dispatch_due_task
from accountability.webhook_keys import decrypt_secret, dev_key, encrypt_secret, fingerprint, webhook_keys_check

from .factories import WebhookFactory
from .test_webhooks import verify

pytestmark = pytest.mark.django_db
ADMIN = "/admin/accountability"
KEY_OLD, KEY_NEW, KEY_ELSEWHERE = (Fernet.generate_key().decode() for _ in range(3))
MIGRATION = "0007_webhook_secret_encrypted"


def stored(pk: int, column: str = "secret_encrypted") -> str:
    """What the database itself holds, read with SQL (no model code in between)."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {Webhook._meta.db_table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cur.fetchone()[0]


def rows_of(model, pk: int, pk_column: str = "id") -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {model._meta.db_table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        return cur.fetchall()


def make_undecryptable(hook: Webhook) -> str:
    """Put a token no configured key opens in the column (as if its key had been removed)."""
    token = Fernet(KEY_ELSEWHERE).encrypt(b"lost-secret").decode()
    Webhook.objects.filter(pk=hook.pk).update(secret_encrypted=token)
    return token


def test_the_database_never_holds_the_plain_secret(project, staff_user):
    hook = svc.webhook_create(actor=staff_user, project=project, name="SIEM", url="https://siem.example.gov/h")
    first = hook.secret
    assert len(first) >= 40
    svc.webhook_rotate_secret(actor=staff_user, webhook=hook)
    hook.refresh_from_db()
    second = hook.secret
    assert second != first
    token = stored(hook.pk)
    assert second not in token
    assert first not in token
    assert Fernet(dev_key(conf.SECRET_KEY)).decrypt(token.encode()) == second.encode()  # the test fallback key
    assert not any(s in str(value) for s in (first, second) for value in rows_of(Webhook, hook.pk)[0])
    history = Webhook.history.model
    assert not {"secret", "secret_encrypted"} & {f.name for f in history._meta.fields}
    history_rows = rows_of(history, hook.pk)
    assert len(history_rows) == 2  # created, secret rotated
    assert not any(s in str(row) for s in (first, second) for row in history_rows)


def test_each_encryption_is_fresh_and_decrypts_to_the_secret():
    a, b = encrypt_secret("same"), encrypt_secret("same")
    assert a != b  # Fernet's random IV and timestamp: equal secrets do not show as equal tokens
    assert decrypt_secret(a) == decrypt_secret(b) == "same"
    with pytest.raises(SecretUndecryptable):
        decrypt_secret("not a token")


def test_deliveries_are_signed_with_the_decrypted_secret(receiver, project):
    rx = receiver(200)
    hook = WebhookFactory(project=project, url=rx.url, secret="shared-with-the-receiver")
    assert stored(hook.pk) != "shared-with-the-receiver"
    assert Webhook.objects.get(pk=hook.pk).secret == "shared-with-the-receiver"
    delivery = WebhookDelivery.objects.create(
        webhook=hook, project=project, event="webhook.ping", payload={"x": 1}, dedupe_key="k", next_attempt_at=None
    )
    assert svc.webhook_deliver(delivery_id=delivery.pk).status == "delivered"
    request = rx.requests[0]
    assert verify("shared-with-the-receiver", request["headers"], request["body"])
    assert not verify(stored(hook.pk), request["headers"], request["body"])


def test_rotation_re_encrypts_under_the_new_key_and_signs_the_same(settings):
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_OLD]
    hooks = [WebhookFactory(secret=f"secret-{n}") for n in range(3)]
    before = {h.pk: stored(h.pk) for h in hooks}
    signatures = {h.pk: svc.sign(Webhook.objects.get(pk=h.pk).secret, 1700000000, b"{}") for h in hooks}

    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_NEW, KEY_OLD]
    out = StringIO()
    call_command("rotate_webhook_keys", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"rotated": 3, "under_older_key": 3, "key_fingerprint": fingerprint(KEY_NEW)}
    for n, hook in enumerate(hooks):
        token = stored(hook.pk)
        assert token != before[hook.pk]
        assert Fernet(KEY_NEW).decrypt(token.encode()) == f"secret-{n}".encode()
        with pytest.raises(InvalidToken):
            Fernet(KEY_OLD).decrypt(token.encode())

    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_NEW]  # the old key removed: everything still opens
    for hook in hooks:
        assert svc.sign(Webhook.objects.get(pk=hook.pk).secret, 1700000000, b"{}") == signatures[hook.pk]
    out = StringIO()
    call_command("rotate_webhook_keys", stdout=out)
    assert out.getvalue().strip() == (
        f"3 webhook secrets encrypted under the first key, {fingerprint(KEY_NEW)} (0 were under an older key)."
    )


def test_rotation_refuses_and_writes_nothing_when_a_secret_does_not_decrypt(settings, project):
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_OLD]
    good, lost = WebhookFactory(project=project), WebhookFactory(project=project)
    make_undecryptable(lost)
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_NEW, KEY_OLD]
    before = {h.pk: stored(h.pk) for h in (good, lost)}
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("rotate_webhook_keys", "--json", stdout=out)
    assert exc.value.returncode == 1
    assert str(exc.value) == (
        f"No key in ICDEV_WEBHOOK_SECRET_KEYS decrypts the secret of {lost.public_id}; nothing was changed. "
        "Add the missing key back, or rotate those webhooks' secrets."
    )
    assert out.getvalue() == ""
    assert {h.pk: stored(h.pk) for h in (good, lost)} == before


def test_rotation_in_production_without_keys_is_a_clear_error(settings):
    WebhookFactory()
    settings.IS_PRODUCTION = True
    settings.ICDEV_WEBHOOK_SECRET_KEYS = []
    with pytest.raises(CommandError, match=r"^ICDEV_WEBHOOK_SECRET_KEYS is required in production") as exc:
        call_command("rotate_webhook_keys")
    assert exc.value.returncode == 1


def test_an_undecryptable_secret_fails_its_attempt_not_the_sweep(receiver, project, caplog):
    rx = receiver(200)
    good, lost = WebhookFactory(project=project, url=rx.url), WebhookFactory(project=project, url=rx.url)
    make_undecryptable(lost)
    now = timezone.now()
    for hook in (good, lost):
        WebhookDelivery.objects.create(
            webhook=hook, project=project, event="webhook.ping", payload={}, dedupe_key="k", next_attempt_at=now
        )
    with caplog.at_level(logging.ERROR, logger="accountability.services.webhooks"):
        assert webhook_dispatch_due_task() == 2
    assert WebhookDelivery.objects.get(webhook=good).status == "delivered"
    failed = WebhookDelivery.objects.get(webhook=lost)
    assert (failed.status, failed.attempts, failed.last_status_code, failed.last_error) == (
        "pending",
        1,
        None,
        svc.UNDECRYPTABLE,
    )
    assert [(a["status_code"], a["error"]) for a in failed.attempt_log] == [(None, svc.UNDECRYPTABLE)]
    assert failed.next_attempt_at > now  # retried with backoff: restoring the key lets it through
    assert len(rx.requests) == 1  # nothing was sent unsigned
    assert [r.getMessage() for r in caplog.records] == [
        f"webhook {lost.public_id}: {svc.UNDECRYPTABLE} (delivery {failed.pk})"
    ]


def test_admin_shows_staff_the_plain_secret(client, staff_user, project):
    hook = WebhookFactory(project=project, secret="give-this-to-the-receiver")
    client.force_login(staff_user)
    page = client.get(f"{ADMIN}/webhook/{hook.pk}/change/").content.decode()
    assert "give-this-to-the-receiver" in page
    assert stored(hook.pk) not in page
    make_undecryptable(hook)
    response = client.get(f"{ADMIN}/webhook/{hook.pk}/change/")
    assert response.status_code == 200
    assert "Cannot be decrypted with ICDEV_WEBHOOK_SECRET_KEYS: rotate it" in response.content.decode()


def test_production_refuses_the_development_key(settings):
    settings.IS_PRODUCTION = True
    settings.ICDEV_WEBHOOK_SECRET_KEYS = []
    with pytest.raises(ImproperlyConfigured, match=r"^ICDEV_WEBHOOK_SECRET_KEYS is required in production"):
        encrypt_secret("x")
    assert [e.id for e in webhook_keys_check()] == ["webhooks.E001"]
    settings.ICDEV_WEBHOOK_SECRET_KEYS = ["not-a-fernet-key"]
    assert [e.id for e in webhook_keys_check()] == ["webhooks.E002"]
    with pytest.raises(ImproperlyConfigured, match=r"key 1 is not a Fernet key") as exc:
        encrypt_secret("x")
    assert "not-a-fernet-key" not in str(exc.value)  # a key never appears in an error
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_NEW]
    assert webhook_keys_check() == []
    assert Fernet(KEY_NEW).decrypt(encrypt_secret("x").encode()) == b"x"


def test_reverse_data_migration_refuses_and_writes_nothing_when_a_secret_does_not_decrypt(project):
    migration = importlib.import_module(f"accountability.migrations.{MIGRATION}")
    editor = SimpleNamespace(connection=connection)
    good, lost = WebhookFactory(project=project, secret="good"), WebhookFactory(project=project)
    token = make_undecryptable(lost)
    before = stored(good.pk)
    with pytest.raises(SecretUndecryptable, match=f"decrypts the secret of {lost.public_id}"):
        migration.decrypt_in_place(django_apps, editor)
    assert (stored(good.pk), stored(lost.pk)) == (before, token)
    Webhook.objects.filter(pk=lost.pk).update(secret_encrypted=encrypt_secret("lost"))
    migration.decrypt_in_place(django_apps, editor)
    assert (stored(good.pk), stored(lost.pk)) == ("good", "lost")
    migration.encrypt_in_place(django_apps, editor)
    assert (Webhook.objects.get(pk=good.pk).secret, Webhook.objects.get(pk=lost.pk).secret) == ("good", "lost")


@pytest.mark.django_db(transaction=True)  # SQLite alters tables only outside a transaction
def test_migration_encrypts_existing_secrets_and_its_reverse_decrypts(project):
    longest = "x" * 128  # the widest secret the plain column could hold
    hooks = {WebhookFactory(project=project, secret=s).pk: s for s in ("plain-before-0007", longest)}
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("accountability", "0006_incident_leaner_indexes")])
        assert {pk: stored(pk, "secret") for pk in hooks} == hooks
        executor.loader.build_graph()
        executor.migrate([("accountability", MIGRATION)])
        for pk, secret in hooks.items():
            assert secret not in stored(pk)
            assert Webhook.objects.get(pk=pk).secret == secret
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _governance(action_type: str) -> list[dict]:
    """The payloads of the ledger's entries of ``action_type``, integrated or still queued, oldest first."""
    rows = [
        *PendingEntry.objects.filter(action_type=action_type).values_list("entry_id", "payload"),
        *LedgerEntry.objects.filter(action_type=action_type).values_list("entry_id", "payload"),
    ]
    return [json.loads(bytes(payload)) for _, payload in sorted(rows)]


def test_each_projects_ledger_records_the_re_encryption_with_the_keys_fingerprint_only(settings, project):
    from .factories import ProjectFactory

    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_OLD]
    other = ProjectFactory()
    mine = [WebhookFactory(project=project, secret=f"mine-{n}") for n in range(2)]
    theirs = WebhookFactory(project=other, secret="theirs")
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_NEW, KEY_OLD]
    Webhook.objects.filter(pk=mine[1].pk).update(secret_encrypted=Fernet(KEY_NEW).encrypt(b"mine-1").decode())

    result = svc.webhook_secrets_reencrypt(actor=SystemActor("cli:rotate_webhook_keys"))

    assert (result.rotated, result.under_older_key, result.key_fingerprint) == (3, 2, fingerprint(KEY_NEW))
    entries = _governance("webhook.reencrypt_secrets")
    assert [(e["project"], e["actor"]) for e in entries] == [
        (project.key, {"kind": "system", "id": "cli:rotate_webhook_keys"}),
        (other.key, {"kind": "system", "id": "cli:rotate_webhook_keys"}),
    ]
    ours = entries[0]
    assert ours["action"]["inputs"] == [
        {"changes": {"key_fingerprint": fingerprint(KEY_NEW), "webhooks": 2, "under_older_key": 1}}
    ]
    assert ours["context"]["related_models"] == [h.public_id for h in mine]
    assert entries[1]["context"]["related_models"] == [theirs.public_id]
    text = json.dumps(entries)
    for secret in ("mine-0", "mine-1", "theirs", KEY_NEW, KEY_OLD):
        assert secret not in text


def test_only_system_jobs_and_superusers_re_encrypt_and_a_refusal_writes_nothing(settings, project, django_user_model):
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_OLD]
    hook = WebhookFactory(project=project)
    settings.ICDEV_WEBHOOK_SECRET_KEYS = [KEY_NEW, KEY_OLD]
    before = stored(hook.pk)
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    with pytest.raises(NotAllowed, match=r"^Only system jobs and superusers re-encrypt webhook secrets\.$"):
        svc.webhook_secrets_reencrypt(actor=staff)
    assert stored(hook.pk) == before
    assert _governance("webhook.reencrypt_secrets") == []
    boss = django_user_model.objects.create_superuser("boss", password="x")
    assert svc.webhook_secrets_reencrypt(actor=boss).rotated == 1
    assert stored(hook.pk) != before


def test_a_fingerprint_names_a_key_without_revealing_it():
    assert fingerprint(KEY_NEW) == fingerprint(KEY_NEW.encode())
    assert len(fingerprint(KEY_NEW)) == 16
    assert fingerprint(KEY_NEW) != fingerprint(KEY_OLD)
    assert fingerprint(KEY_NEW) not in KEY_NEW
