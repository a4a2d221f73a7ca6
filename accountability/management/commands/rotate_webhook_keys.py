"""rotate_webhook_keys: encrypt every webhook signing secret again under the first ICDEV_WEBHOOK_SECRET_KEYS key."""

from __future__ import annotations

import json
from dataclasses import asdict

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from accountability.actors import SystemActor
from accountability.exceptions import SecretUndecryptable
from accountability.services.webhooks import webhook_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every webhook signing secret under the first key of ICDEV_WEBHOOK_SECRET_KEYS. Rotate a "
        "key by putting a new one first, running this, then removing the old one. The secrets themselves "
        "do not change (receivers notice nothing); if any secret cannot be decrypted, nothing is written. "
        "Each project's ledger records the re-encryption with the key's fingerprint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print JSON only (errors go to stderr).")

    def handle(self, *args, **opts):
        try:
            result = asdict(webhook_secrets_reencrypt(actor=SystemActor("cli:rotate_webhook_keys")))
        except (SecretUndecryptable, ImproperlyConfigured) as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        self.stdout.write(
            f"{result['rotated']} webhook secrets encrypted under the first key, {result['key_fingerprint']} "
            f"({result['under_older_key']} were under an older key)."
        )
