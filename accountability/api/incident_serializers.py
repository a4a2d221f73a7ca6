"""Serializers of incidents: read-only output (with SLA, EU and GV-4.3-002 state) and service inputs."""

from __future__ import annotations

from rest_framework import serializers

from accountability.models import CorrectiveAction, Incident, IncidentEvent, IncidentStakeholderNotice
from accountability.rules.incidents import allowed_transitions, gv_4_3_002_completeness

from .fields import ProjectKeyField, UseCaseIdField, UsernameField


def _username(user):
    return user.get_username() if user else None


_DATETIME = serializers.DateTimeField()


def _dt(value):
    """Render a datetime inside a nested dict the same way as the model's own datetime fields."""
    return _DATETIME.to_representation(value) if value else None


class IncidentEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = IncidentEvent
        fields = [
            "id",
            "at",
            "kind",
            "kind_label",
            "actor_label",
            "from_status",
            "to_status",
            "message",
            "ledger_entry_id",
            "related",
        ]
        read_only_fields = fields


class CorrectiveActionSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    incident = serializers.CharField(source="incident.public_id", read_only=True)
    owner = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = CorrectiveAction
        fields = [
            "id",
            "incident",
            "description",
            "owner",
            "owner_name",
            "due_date",
            "status",
            "status_note",
            "is_overdue",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_owner(self, obj) -> str | None:
        return _username(obj.owner)


class IncidentStakeholderNoticeSerializer(serializers.ModelSerializer):
    stakeholder = serializers.CharField(source="stakeholder.public_id", read_only=True)
    party = serializers.CharField(source="stakeholder.name", read_only=True)
    role = serializers.CharField(source="stakeholder.role", read_only=True)
    obligation = serializers.SerializerMethodField()
    is_late = serializers.BooleanField(read_only=True)

    class Meta:
        model = IncidentStakeholderNotice
        fields = [
            "id",
            "stakeholder",
            "party",
            "role",
            "obligation",
            "due_at",
            "notified_at",
            "channel",
            "is_late",
            "acknowledged_at",
            "acknowledged_by_name",
            "acknowledgement",
        ]
        read_only_fields = fields

    def get_obligation(self, obj) -> str | None:
        return f"OBL-{obj.obligation_id:05d}" if obj.obligation_id else None


class IncidentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_cases = serializers.SerializerMethodField()
    reported_by = serializers.SerializerMethodField()
    assigned_to = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    eu_ai_act = serializers.SerializerMethodField()
    gv_4_3_002 = serializers.SerializerMethodField()
    open_corrective_actions = serializers.IntegerField(source="open_actions", read_only=True, default=None)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "project",
            "title",
            "description",
            "incident_type",
            "severity",
            "status",
            "allowed_transitions",
            "use_cases",
            "affected_systems",
            "reported_by",
            "reporter_name",
            "reported_at",
            "detected_at",
            "occurred_at",
            "source",
            "data_reported",
            "impacts",
            "stakeholders_impacted",
            "assigned_to",
            "root_cause",
            "root_cause_tags",
            "lessons_learned",
            "resolved_at",
            "closed_at",
            "reopen_count",
            "sla",
            "eu_ai_act",
            "gv_4_3_002",
            "open_corrective_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_use_cases(self, obj) -> list[str]:
        return [uc.public_id for uc in obj.use_cases.all()]

    def get_reported_by(self, obj) -> str | None:
        return _username(obj.reported_by)

    def get_assigned_to(self, obj) -> str | None:
        return _username(obj.assigned_to)

    def get_sla(self, obj) -> dict:
        return {
            "due_at": _dt(obj.sla_due_at),
            "state": getattr(obj, "sla_state", None),
            "breached": obj.sla_breached,
            "breached_at": _dt(obj.sla_breached_at),
            "escalated_at": _dt(obj.sla_escalated_at),
        }

    def get_eu_ai_act(self, obj) -> dict:
        return {
            "serious_incident": obj.eu_serious,
            "basis": obj.eu_basis or None,
            "aware_at": _dt(obj.eu_aware_at),
            "report_due_at": _dt(obj.eu_report_due_at),
            "report_overdue": obj.eu_overdue_at is not None,
            "provider_notified_at": _dt(obj.eu_provider_notified_at),
            "authority_notified_at": _dt(obj.eu_authority_notified_at),
            "authority_reference": obj.eu_authority_reference,
        }

    def get_gv_4_3_002(self, obj) -> dict:
        return gv_4_3_002_completeness(obj, has_use_cases=bool(obj.use_cases.all())).as_dict()

    def get_allowed_transitions(self, obj) -> list[str]:
        return allowed_transitions(obj.status)


class IncidentDetailSerializer(IncidentSerializer):
    timeline = IncidentEventSerializer(source="events", many=True, read_only=True)
    corrective_actions = CorrectiveActionSerializer(many=True, read_only=True)
    stakeholder_notices = IncidentStakeholderNoticeSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "timeline", "corrective_actions", "stakeholder_notices"]
        read_only_fields = fields


# --- inputs ------------------------------------------------------------------------------------------


def _text(**kw):
    return serializers.CharField(required=False, allow_blank=True, **kw)


class _RecordFieldsSerializer(serializers.Serializer):
    description = _text()
    incident_type = serializers.CharField(required=False, max_length=40)
    use_cases = serializers.ListField(child=UseCaseIdField(), required=False)
    affected_systems = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    detected_at = serializers.DateTimeField(required=False, allow_null=True)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    source = _text(max_length=200)
    data_reported = _text()
    impacts = _text()
    stakeholders_impacted = _text()
    reporter_name = _text(max_length=200)


class IncidentCreateSerializer(_RecordFieldsSerializer):
    project = ProjectKeyField()
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Incident.Severity.choices, required=False)
    assigned_to = UsernameField(required=False)
    reported_at = serializers.DateTimeField(
        required=False, help_text="When it was first reported (default now); the SLA runs from here."
    )


class IncidentUpdateSerializer(_RecordFieldsSerializer):
    title = serializers.CharField(max_length=200, required=False)


class IncidentNoteSerializer(serializers.Serializer):
    note = _text()


class IncidentMitigateSerializer(serializers.Serializer):
    note = serializers.CharField()


class IncidentResolveSerializer(serializers.Serializer):
    root_cause = serializers.CharField()
    root_cause_tags = serializers.ListField(
        child=serializers.ChoiceField(choices=Incident.RootCause.choices), required=False, default=list
    )
    lessons_learned = _text(default="")


class IncidentCloseSerializer(serializers.Serializer):
    lessons_learned = _text(default="")


class IncidentSeveritySerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Incident.Severity.choices)
    reason = serializers.CharField()


class IncidentAssignSerializer(serializers.Serializer):
    assigned_to = UsernameField()


class IncidentTimelineNoteSerializer(serializers.Serializer):
    text = serializers.CharField()


class IncidentLinkSerializer(serializers.Serializer):
    record_type = serializers.CharField()
    record_id = serializers.CharField(max_length=100)
    note = _text(default="")


class CorrectiveActionCreateSerializer(serializers.Serializer):
    description = serializers.CharField()
    due_date = serializers.DateField()
    owner = UsernameField(required=False)
    owner_name = _text(max_length=200, default="")


class CorrectiveActionStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CorrectiveAction.Status.choices)
    note = _text(default="")


class IncidentEUFlagSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=Incident.EUBasis.choices)
    aware_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = _text(default="")


EU_NOTIFIED_PARTIES = [("provider", "Provider (Art. 26(5))"), ("authority", "Market surveillance authority (Art. 73)")]


class IncidentEUNotificationSerializer(serializers.Serializer):
    party = serializers.ChoiceField(choices=EU_NOTIFIED_PARTIES)
    notified_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reference = _text(max_length=200, default="")


class IncidentStakeholderNoticeInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=IncidentStakeholderNotice.Channel.choices)
    notified_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class IncidentAcknowledgementSerializer(serializers.Serializer):
    acknowledged_by_name = serializers.CharField(max_length=200)
    acknowledgement = _text(default="")
    acknowledged_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
