"""Shared model pieces: public ids derived from primary keys (never reused), timestamps."""

from __future__ import annotations

import re

from django.db import models

from accountability.exceptions import NotFound


class PublicIdMixin:
    """``UC-00042`` style ids: a prefix plus the primary key, which is never reused (rows are never
    deleted, and both PostgreSQL sequences and Django's SQLite AUTOINCREMENT never hand a key out twice)."""

    PUBLIC_ID_PREFIX = ""

    @property
    def public_id(self) -> str:
        return f"{self.PUBLIC_ID_PREFIX}-{self.pk:05d}" if self.pk else ""

    @classmethod
    def pk_from_public_id(cls, value: str) -> int:
        """Parse ``PREFIX-00042`` (or a bare number) into a primary key; NotFound when malformed."""
        match = re.fullmatch(rf"(?:{re.escape(cls.PUBLIC_ID_PREFIX)}-)?0*(\d{{1,18}})", str(value).strip(), re.I)
        if not match:
            raise NotFound(f"No {cls._meta.verbose_name} with id {value!r}.")
        return int(match.group(1))


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
