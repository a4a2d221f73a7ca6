"""Keys that encrypt webhook signing secrets at rest, so that a database backup, replica or DBA cannot
forge signed deliveries.

``ICDEV_WEBHOOK_SECRET_KEYS`` lists Fernet keys (authenticated encryption: AES-128-CBC and
HMAC-SHA256); the first one encrypts, every one decrypts (``MultiFernet``). To rotate: put a new key
first, run ``manage.py rotate_webhook_keys``, then remove the old key. Production must configure it
(``webhooks.E001``, and using a secret without it raises ImproperlyConfigured); development and tests
derive a key from SECRET_KEY so ``make run`` works on a bare machine, as the ledger's keys do.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from accountability.exceptions import SecretUndecryptable
from accountability.ledger.settings_cache import SettingCache

SETTING = "ICDEV_WEBHOOK_SECRET_KEYS"


@dataclass(frozen=True)
class Keyring:
    current: Fernet  # encrypts
    every: MultiFernet  # decrypts with any key, the current one first
    fingerprint: str  # names the current key in records and output without revealing it


def dev_key(secret_key: str) -> bytes:
    """The development and test key: derived from SECRET_KEY (changing SECRET_KEY makes the stored
    secrets undecryptable, as it would make the ledger's development keys change)."""
    digest = hashlib.sha256(b"icdev-webhook-dev/secret-encryption/" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _keyring(configured: tuple[str, ...], secret_key: str, is_production: bool) -> Keyring:
    """The keys from their setting; built once per settings change by ``_live`` (the deploy check builds
    its own to report a bad key)."""
    if not configured:
        if is_production:
            raise ImproperlyConfigured(f"{SETTING} is required in production (see README, Notifications and webhooks).")
        configured = (dev_key(secret_key).decode(),)
    fernets = []
    for position, key in enumerate(configured, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:  # never echo the key itself
            raise ImproperlyConfigured(
                f"{SETTING}: key {position} is not a Fernet key (32 url-safe base64 bytes)"
            ) from exc
    return Keyring(fernets[0], MultiFernet(fernets), fingerprint(configured[0]))


def fingerprint(key: str | bytes) -> str:
    """The first 16 hex digits of the key's SHA-256: enough to tell keys apart in the ledger and in the
    command's output, and no help in guessing a 256-bit key."""
    raw = key.encode() if isinstance(key, str) else key
    return hashlib.sha256(raw).hexdigest()[:16]


_live = SettingCache(
    (SETTING, "SECRET_KEY", "IS_PRODUCTION"),
    lambda: _keyring(tuple(settings.ICDEV_WEBHOOK_SECRET_KEYS), settings.SECRET_KEY, settings.IS_PRODUCTION),
)


def keyring() -> Keyring:
    """The live keys (ImproperlyConfigured in production without any)."""
    return _live()


def encrypt_secret(plain: str) -> str:
    """The Fernet token (ASCII) of a signing secret, under the first key."""
    return keyring().current.encrypt(plain.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    """The signing secret inside ``token``; SecretUndecryptable when no configured key opens it."""
    try:
        return keyring().every.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUndecryptable() from exc


def reencrypt_secret(token: str) -> tuple[str, bool]:
    """``token`` encrypted again under the first key, and whether it was under an older key before."""
    ring = keyring()
    try:
        raw = token.encode("ascii")
        rotated = ring.every.rotate(raw).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUndecryptable() from exc
    try:
        ring.current.decrypt(raw)
    except InvalidToken:
        return rotated, True
    return rotated, False


@register(deploy=True)
def webhook_keys_check(app_configs=None, **kwargs):
    """Production needs its own key for webhook secrets (the development key derives from SECRET_KEY)."""
    configured = tuple(settings.ICDEV_WEBHOOK_SECRET_KEYS)
    if not configured:
        return [Error(f"{SETTING} is not set.", id="webhooks.E001", hint=_HINT)]
    try:
        _keyring(configured, settings.SECRET_KEY, True)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="webhooks.E002", hint=_HINT)]
    return []


_HINT = "Generate a key with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
