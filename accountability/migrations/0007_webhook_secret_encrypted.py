"""Webhook signing secrets encrypted at rest: the column is widened to hold a Fernet token, renamed so
no code reads a token as a key, and every stored secret is encrypted in place under the first
ICDEV_WEBHOOK_SECRET_KEYS key. The reverse decrypts in place (it stops, changing nothing, when a secret
cannot be decrypted with the configured keys)."""

from django.db import migrations, models

from accountability.exceptions import SecretUndecryptable
from accountability.webhook_keys import decrypt_secret, encrypt_secret


def encrypt_in_place(apps, schema_editor):
    """Plain secrets to Fernet tokens (the keys are read only when a webhook exists, so a fresh
    production database migrates before its keys are configured)."""
    Webhook = apps.get_model("accountability", "Webhook")
    hooks = list(Webhook.objects.using(schema_editor.connection.alias).order_by("pk"))
    for hook in hooks:
        hook.secret_encrypted = encrypt_secret(hook.secret_encrypted)
    Webhook.objects.using(schema_editor.connection.alias).bulk_update(hooks, ["secret_encrypted"], batch_size=500)


def decrypt_in_place(apps, schema_editor):
    """Fernet tokens back to plain secrets, all or nothing."""
    Webhook = apps.get_model("accountability", "Webhook")
    hooks = list(Webhook.objects.using(schema_editor.connection.alias).order_by("pk"))
    failed = []
    for hook in hooks:
        try:
            hook.secret_encrypted = decrypt_secret(hook.secret_encrypted)
        except SecretUndecryptable:
            failed.append(f"WH-{hook.pk:05d}")
    if failed:
        raise SecretUndecryptable(f"No key in ICDEV_WEBHOOK_SECRET_KEYS decrypts the secret of {', '.join(failed)}.")
    Webhook.objects.using(schema_editor.connection.alias).bulk_update(hooks, ["secret_encrypted"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0006_incident_leaner_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhook",
            name="secret",
            field=models.CharField(max_length=300),
        ),
        migrations.RenameField(model_name="webhook", old_name="secret", new_name="secret_encrypted"),
        migrations.AlterField(
            model_name="webhook",
            name="secret_encrypted",
            field=models.CharField(
                help_text="The HMAC-SHA256 signing key, encrypted (ICDEV_WEBHOOK_SECRET_KEYS); staff see it decrypted.",
                max_length=300,
            ),
        ),
        migrations.RunPython(encrypt_in_place, decrypt_in_place, elidable=False),
    ]
