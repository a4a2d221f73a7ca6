"""Ledger entries (seed 002 schema). Append-only: no history, no updates, no deletes."""

from __future__ import annotations

from django.db import models


class LedgerEntry(models.Model):
    """One ledger entry; ``seq`` orders the chain and ``previous_hash`` links it."""

    class EntryType(models.TextChoices):
        ACTION = "action", "Action"
        DECISION = "decision", "Decision"
        INTERACTION = "interaction", "Interaction"
        GOVERNANCE = "governance", "Governance"
        VIOLATION = "violation", "Violation"
        CORRECTION = "correction", "Correction"

    seq = models.BigIntegerField(primary_key=True)
    entry_id = models.CharField(max_length=40, unique=True)
    entry_type = models.CharField(max_length=12, choices=EntryType.choices, db_index=True)
    project_key = models.CharField(max_length=50, blank=True, db_index=True)
    trace_id = models.CharField(
        max_length=32, blank=True, db_index=True, help_text="W3C trace id of the AI decision this entry records."
    )
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.JSONField()
    action = models.JSONField()
    context = models.JSONField(default=dict)
    accountability = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.entry_id} ({self.entry_type})"
