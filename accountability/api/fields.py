"""Serializer fields that resolve public keys through the selectors (so invisible rows read as absent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accountability.exceptions import NotFound
from accountability.selectors import incidents as incident_sel
from accountability.selectors import registry as sel


@extend_schema_field(OpenApiTypes.STR)
class ScopedRelatedField(serializers.Field):
    """Input: a public key string; output: the resolved object (for the service call)."""

    selector = None
    noun = "object"

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError(f"Give a {self.noun} id.")
        try:
            return type(self).selector(self.context["request"].user, data.strip())
        except NotFound as exc:
            raise serializers.ValidationError(f"No {self.noun} {data!r}.") from exc

    def to_representation(self, value):
        return getattr(value, "key", None) or getattr(value, "public_id", str(value))


class ProjectKeyField(ScopedRelatedField):
    selector = staticmethod(sel.project_get)
    noun = "project"


class UseCaseIdField(ScopedRelatedField):
    selector = staticmethod(sel.use_case_get)
    noun = "use case"


class IncidentIdField(ScopedRelatedField):
    selector = staticmethod(incident_sel.incident_get)
    noun = "incident"


class StakeholderIdField(ScopedRelatedField):
    selector = staticmethod(sel.stakeholder_get)
    noun = "stakeholder"


@extend_schema_field(OpenApiTypes.STR)
class UsernameField(serializers.Field):
    """A user by username (only active users)."""

    def to_internal_value(self, data):
        user = get_user_model().objects.filter(username=str(data), is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"No active user {data!r}.")
        return user

    def to_representation(self, value):
        return value.get_username() if value else None
