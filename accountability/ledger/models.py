"""Ledger tables. Entries, tiles and checkpoints are append-only (PostgreSQL triggers forbid UPDATE and
DELETE, except the retention purge of an expired payload); none has simple-history, which would copy
payloads that retention must purge. Pending rows exist only on PostgreSQL, until the integrator
sequences them."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .schema import EntryType, Oversight, Reversibility


class EntryFields(models.Model):
    """What a writer supplies: the committed payload and the columns audit queries filter on."""

    # Unique through each table's UniqueConstraint, not ``unique=True``: on PostgreSQL that also builds a
    # varchar_pattern_ops "_like" index for LIKE 'prefix%', which no query here runs, and every append
    # would write it (on both the pending and the entry table).
    entry_id = models.CharField(max_length=30)
    entry_type = models.CharField(max_length=12, choices=EntryType.choices)
    project_key = models.CharField(max_length=50, blank=True)
    trace_id = models.CharField(max_length=32, blank=True, help_text="W3C trace id of the AI decision recorded.")
    task_id = models.CharField(max_length=200, blank=True)
    actor_ref = models.CharField(max_length=300, help_text="kind:id of the primary actor, e.g. model:claude-opus.")
    action_type = models.CharField(max_length=100)
    oversight = models.CharField(max_length=10, choices=Oversight.choices, blank=True)
    reversibility = models.CharField(max_length=12, choices=Reversibility.choices, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    retention = models.CharField(max_length=10)
    expires_at = models.DateTimeField(null=True, blank=True)
    payload = models.BinaryField(null=True, help_text="RFC 8785 bytes; NULL once purged after expiry.")
    payload_salt = models.BinaryField(null=True)
    payload_hash = models.BinaryField()
    attribution_gaps = models.CharField(max_length=200, blank=True, help_text="Space-separated reason codes.")
    corrects_entry_id = models.CharField(max_length=30, blank=True, help_text="The entry a correction amends.")

    class Meta:
        abstract = True

    @property
    def document(self) -> dict | None:
        """The seed-schema entry as written (None once the payload is purged)."""
        return None if self.payload is None else json.loads(bytes(self.payload))

    @property
    def gaps(self) -> list[str]:
        return self.attribution_gaps.split()


class PendingEntry(EntryFields):
    """An accepted entry waiting for the integrator (PostgreSQL); its entry_id is already final."""

    is_integrated = False
    seq = None

    class Meta:
        verbose_name = "pending ledger entry"
        verbose_name_plural = "pending ledger entries"
        constraints = [models.UniqueConstraint(fields=["entry_id"], name="ledger_pending_entry_id_unique")]

    def __str__(self) -> str:
        return f"{self.entry_id} ({self.entry_type}, pending)"


class SeqField(models.BigIntegerField):
    """A 64-bit integer key that SQLite stores as ``integer PRIMARY KEY``: the table's own rowid, so
    the table B-tree is ordered by seq and no separate primary-key index is written per append (a
    ``bigint`` key gets one). PostgreSQL keeps ``bigint``; the values are the same on both."""

    def db_type(self, connection):
        return "integer" if connection.vendor == "sqlite" else super().db_type(connection)


class LedgerEntry(EntryFields):
    """One integrated entry: ``seq`` orders the log, ``leaf_bytes`` is what the tree commits to."""

    EntryType = EntryType

    seq = SeqField(primary_key=True)
    recorded_at = models.DateTimeField()
    leaf_bytes = models.BinaryField()
    entry_hash = models.BinaryField(unique=True, help_text="SHA-256(0x00 ‖ leaf): RFC 6962 leaf hash and chain link.")
    previous_hash = models.BinaryField(unique=True, help_text="The previous entry's hash; a fork cannot be stored.")
    corrects_seq = models.BigIntegerField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    redacted_by = models.CharField(max_length=30, blank=True, help_text="entry_id of the purge record.")

    is_integrated = True

    class Meta:
        ordering = ["seq"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        # Every append writes each index, so each one has to earn its place (tests/accountability/ledger/
        # test_indexes.py checks that every selector still has an index path). Time windows over all
        # types use ledger_type_time with entry_type IN (every type) (``any_type_since``). The
        # sparse columns are partial indexes: only entries with a trace id, a correction target, or a
        # payload that will expire pay for them. Queries repeat the index condition (``…__gt=""``,
        # ``payload__isnull=False``) so SQLite's planner can match it; PostgreSQL proves it either way.
        indexes = [
            models.Index(fields=["entry_type", "occurred_at"], name="ledger_type_time"),
            models.Index(fields=["actor_ref", "occurred_at"], name="ledger_actor_time"),
            models.Index(fields=["task_id", "occurred_at"], name="ledger_task_time"),
            models.Index(fields=["project_key", "seq"], name="ledger_project_seq"),
            models.Index(fields=["trace_id"], name="ledger_trace", condition=models.Q(trace_id__gt="")),
            models.Index(
                fields=["expires_at"],
                name="ledger_expiry",
                condition=models.Q(payload__isnull=False, expires_at__isnull=False),
            ),
            models.Index(
                fields=["corrects_entry_id"], name="ledger_corrects", condition=models.Q(corrects_entry_id__gt="")
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=0), name="ledger_seq_nonnegative"),
            models.UniqueConstraint(fields=["entry_id"], name="ledger_entry_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} ({self.entry_type})"

    @property
    def is_purged(self) -> bool:
        return self.payload is None


class LedgerHead(models.Model):
    """The integrated tree's state (a single row, written only by whoever holds the append lock)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField()
    compact_range = models.BinaryField(default=b"")
    last_hash = models.BinaryField()
    last_recorded_at = models.DateTimeField(null=True)
    checkpoint_size = models.BigIntegerField(default=-1)
    checkpoint_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="ledger_head_singleton")]

    def __str__(self) -> str:
        return f"ledger head at size {self.size}"


class LedgerTile(models.Model):
    """A full tlog-tiles hash tile: 256 hashes of level ``8·level`` nodes, and their subtree root."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()
    root = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_tile_unique")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed tree head in C2SP signed-note form; one per size, so two roots can never be signed
    for the same size."""

    tree_size = models.BigIntegerField(unique=True)
    root = models.BinaryField()
    note = models.TextField()
    key_id = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    compact_range = models.BinaryField(
        null=True,
        help_text="The tree's compact range at this size (its right edge, largest subtree first), so a proof "
        "needs no right-edge reads; used only when it folds to the signed root. NULL on checkpoints signed "
        "before it was stored (the append-only trigger forbids filling them in).",
    )

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint at size {self.tree_size}"


class SigningKey(models.Model):
    """Public verifier keys that have signed checkpoints (no secrets), for exports and auditors."""

    name = models.CharField(max_length=200)
    key_id = models.CharField(max_length=8)
    vkey = models.CharField(max_length=300, unique=True)
    first_used_at = models.DateTimeField()
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.vkey


class VerificationRun(models.Model):
    """The outcome of a verification (full or incremental); the latest one feeds chain_integrity."""

    class Mode(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Incremental"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    mode = models.CharField(max_length=12, choices=Mode.choices)
    from_size = models.BigIntegerField()
    size = models.BigIntegerField()
    ok = models.BooleanField()
    checked = models.BigIntegerField()
    bad_entries = models.BigIntegerField()
    chain_integrity = models.FloatField(help_text="Percent of checked entries without a problem.")
    first_bad_seq = models.BigIntegerField(null=True, blank=True)
    first_bad_entry_id = models.CharField(max_length=30, blank=True)
    first_bad_reason = models.CharField(max_length=40, blank=True)
    problems = models.JSONField(default=list)
    root = models.BinaryField(default=b"")
    compact_range = models.BinaryField(default=b"")
    last_hash = models.BinaryField(default=b"")
    seconds = models.FloatField()

    class Meta:
        ordering = ["-finished_at", "-id"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"{self.mode} verification to size {self.size}: {'ok' if self.ok else 'FAILED'}"


class ScopeGrant(models.Model):
    """The scope a human granted an AI model in a project (the seed's INVITATION check): which action
    types it may perform. Changed only through ``accountability.ledger.services.grants``."""

    project = models.ForeignKey("accountability.Project", on_delete=models.PROTECT, related_name="ledger_grants")
    model_id = models.CharField(max_length=200, help_text="The AI model or agent id, as entries name it.")
    action_types = models.JSONField(help_text="Action types it may perform; a trailing .* allows a family.")
    reason = models.TextField(blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "model_id", "-granted_at"]
        indexes = [models.Index(fields=["project", "model_id"], name="ledger_grant_model")]

    def __str__(self) -> str:
        return f"{self.model_id} in {self.project.key}: {', '.join(self.action_types)}"

    def covers(self, action_type: str) -> bool:
        return covers(self.action_types, action_type)


def any_type_since(since) -> models.Q:
    """``occurred_at >= since`` for entries of every type, spelled with ``entry_type IN (…every
    type…)`` so both databases answer it from the (entry_type, occurred_at) index: there is no
    index on occurred_at alone, which every append would otherwise have to write."""
    return models.Q(entry_type__in=EntryType.values, occurred_at__gte=since)


def covers(patterns: list[str], action_type: str) -> bool:
    """An action type is covered by itself, or by a family pattern ending in .* (data.* covers data.export)."""
    return any(p == action_type or (p.endswith(".*") and action_type.startswith(p[:-1])) for p in patterns)


class ModelKey(models.Model):
    """An AI model's Ed25519 public key in a project: records the model signs with it carry its
    signature in the ledger (the seed's ``integrity.signatures``; ``offline/signing.py``). Only public
    keys are held; registered and revoked only through ``accountability.ledger.services.model_keys``."""

    project = models.ForeignKey("accountability.Project", on_delete=models.PROTECT, related_name="ledger_model_keys")
    model_id = models.CharField(max_length=200, help_text="The AI model or agent id, as entries name it.")
    kid = models.CharField(max_length=16, help_text="Key id: a hash of the public key (offline/signing.py).")
    public_key = models.CharField(max_length=44, help_text="The raw Ed25519 public key, standard base64.")
    reason = models.TextField(blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "model_id", "-registered_at"]
        constraints = [models.UniqueConstraint(fields=["project", "kid"], name="ledger_model_key_once")]
        indexes = [models.Index(fields=["project", "model_id"], name="ledger_model_key_model")]

    def __str__(self) -> str:
        return f"{self.model_id} in {self.project.key}: key {self.kid}"

    def active_at(self, when) -> bool:
        return self.registered_at <= when and (self.revoked_at is None or when < self.revoked_at)
