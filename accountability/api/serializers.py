"""Serializers of the registry: output serializers are read-only; inputs feed services."""

from __future__ import annotations

from rest_framework import serializers

from accountability.models import (
    AIUseCase,
    CAIODesignation,
    ContractualObligation,
    Membership,
    Notification,
    OversightPlan,
    OversightPlanVersion,
    Project,
    Stakeholder,
)

from .fields import ProjectKeyField, StakeholderIdField, UseCaseIdField, UsernameField


def _username(user):
    return user.get_username() if user else None


# --- projects -----------------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    use_case_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Project
        fields = [
            "key",
            "name",
            "organization",
            "program",
            "is_federal_agency",
            "is_cfo_act_agency",
            "description",
            "use_case_count",
            "created_at",
            "updated_at",
            "created_by",
        ]
        read_only_fields = fields

    def get_created_by(self, obj) -> str | None:
        return _username(obj.created_by)


class ProjectCreateSerializer(serializers.Serializer):
    key = serializers.CharField(required=False, allow_blank=True, max_length=50)
    name = serializers.CharField(max_length=200)
    organization = serializers.CharField(max_length=200)
    program = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    is_federal_agency = serializers.BooleanField(required=False, default=False)
    is_cfo_act_agency = serializers.BooleanField(required=False, default=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    organization = serializers.CharField(required=False, max_length=200)
    program = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_federal_agency = serializers.BooleanField(required=False)
    is_cfo_act_agency = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    granted_by = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["user", "role", "granted_by", "created_at"]
        read_only_fields = fields

    def get_user(self, obj) -> str:
        return obj.user.get_username()

    def get_granted_by(self, obj) -> str | None:
        return _username(obj.granted_by)


class MembershipInputSerializer(serializers.Serializer):
    user = UsernameField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- use cases ----------------------------------------------------------------------------------

USE_CASE_FIELDS = [
    "name",
    "bureau",
    "purpose",
    "benefits",
    "outputs",
    "topic_area",
    "is_generative",
    "is_agentic",
    "is_llm_procured",
    "development_method",
    "vendor_name",
    "responsible_official_name",
    "contact_name",
    "contact_email",
    "withheld",
    "withheld_reason",
    "operational_date",
    "ato_system_name",
    "data_description",
    "involves_pii",
    "pia_url",
    "demographic_features",
    "has_custom_code",
    "code_url",
    "minimum_practices",
]


class UseCaseSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    responsible_official = serializers.SerializerMethodField()
    determination_by = serializers.SerializerMethodField()
    is_high_impact = serializers.BooleanField(read_only=True)

    class Meta:
        model = AIUseCase
        fields = [
            "id",
            "project",
            "stage",
            "high_impact_determination",
            "is_high_impact",
            "high_impact_bases",
            "presumed_categories",
            "high_impact_justification",
            "determination_by",
            "determination_at",
            *USE_CASE_FIELDS,
            "responsible_official",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_responsible_official(self, obj) -> str | None:
        return _username(obj.responsible_official)

    def get_determination_by(self, obj) -> str | None:
        return _username(obj.determination_by)


class _UseCaseFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    bureau = serializers.CharField(max_length=200, required=False, allow_blank=True)
    purpose = serializers.CharField(required=False, allow_blank=True)
    benefits = serializers.CharField(required=False, allow_blank=True)
    outputs = serializers.CharField(required=False, allow_blank=True)
    topic_area = serializers.CharField(max_length=120, required=False, allow_blank=True)
    is_generative = serializers.BooleanField(required=False)
    is_agentic = serializers.BooleanField(required=False)
    is_llm_procured = serializers.BooleanField(required=False)
    development_method = serializers.ChoiceField(
        choices=[("", ""), *list(AIUseCase.DevelopmentMethod.choices)], required=False, allow_blank=True
    )
    vendor_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    responsible_official = UsernameField(required=False, allow_null=True)
    responsible_official_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    withheld = serializers.BooleanField(required=False)
    withheld_reason = serializers.CharField(required=False, allow_blank=True)
    operational_date = serializers.DateField(required=False, allow_null=True)
    ato_system_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    data_description = serializers.CharField(required=False, allow_blank=True)
    involves_pii = serializers.BooleanField(required=False, allow_null=True)
    pia_url = serializers.URLField(required=False, allow_blank=True)
    demographic_features = serializers.CharField(required=False, allow_blank=True)
    has_custom_code = serializers.BooleanField(required=False, allow_null=True)
    code_url = serializers.URLField(required=False, allow_blank=True)
    minimum_practices = serializers.DictField(child=serializers.CharField(), required=False)


class UseCaseCreateSerializer(_UseCaseFieldsSerializer):
    project = ProjectKeyField()
    stage = serializers.ChoiceField(
        choices=AIUseCase.Stage.choices, required=False, default=AIUseCase.Stage.PRE_DEPLOYMENT
    )
    high_impact_determination = serializers.ChoiceField(choices=AIUseCase.HighImpact.choices, required=False)
    high_impact_bases = serializers.ListField(child=serializers.CharField(), required=False)
    presumed_categories = serializers.ListField(child=serializers.CharField(), required=False)
    high_impact_justification = serializers.CharField(required=False, allow_blank=True)


class UseCaseUpdateSerializer(_UseCaseFieldsSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class DeterminationSerializer(serializers.Serializer):
    determination = serializers.ChoiceField(choices=AIUseCase.HighImpact.choices)
    bases = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    presumed_categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    justification = serializers.CharField(required=False, allow_blank=True, default="")


class StageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=AIUseCase.Stage.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- CAIO ---------------------------------------------------------------------------------------


class DelegateSerializer(serializers.Serializer):
    delegate_name = serializers.CharField(max_length=200)
    delegate_email = serializers.EmailField()
    scope = serializers.ChoiceField(choices=CAIODesignation.Scope.choices)
    scope_ref = serializers.CharField(required=False, allow_blank=True, default="")
    powers = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class CAIOSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    status = serializers.SerializerMethodField()
    official = serializers.SerializerMethodField()
    revoked_by = serializers.SerializerMethodField()

    class Meta:
        model = CAIODesignation
        fields = [
            "id",
            "project",
            "status",
            "official",
            "official_name",
            "official_email",
            "official_title",
            "grade",
            "authority_scope",
            "delegation_chain",
            "effective_date",
            "expiry_date",
            "omb_notified_at",
            "revoked_at",
            "revoked_by",
            "revoked_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_status(self, obj) -> str:
        return getattr(obj, "current_status", None) or obj.status

    def get_official(self, obj) -> str | None:
        return _username(obj.official)

    def get_revoked_by(self, obj) -> str | None:
        return _username(obj.revoked_by)


class CAIOCreateSerializer(serializers.Serializer):
    project = ProjectKeyField()
    official_name = serializers.CharField(max_length=200)
    official_email = serializers.EmailField()
    official = UsernameField(required=False, allow_null=True, default=None)
    official_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    grade = serializers.ChoiceField(
        choices=[("", ""), *list(CAIODesignation.Grade.choices)], required=False, allow_blank=True, default=""
    )
    authority_scope = serializers.ChoiceField(choices=CAIODesignation.Scope.choices)
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    omb_notified_at = serializers.DateField(required=False, allow_null=True, default=None)
    delegation_chain = DelegateSerializer(many=True, required=False, default=list)
    replace = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=False, trim_whitespace=True)


class UndelegateSerializer(ReasonSerializer):
    position = serializers.IntegerField(min_value=1)


class OmbNotificationSerializer(serializers.Serializer):
    notified_on = serializers.DateField()


# --- oversight plans ----------------------------------------------------------------------------


class PlanVersionSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.public_id", read_only=True)
    created_by = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField()

    class Meta:
        model = OversightPlanVersion
        fields = [
            "plan",
            "version",
            "status",
            "name",
            "roles",
            "escalation_path",
            "hitl_checkpoints",
            "approval_required",
            "intervention_role",
            "fail_safe",
            "fail_safe_not_applicable_reason",
            "change_summary",
            "template",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "archived_at",
        ]
        read_only_fields = fields

    def get_created_by(self, obj) -> str | None:
        return _username(obj.created_by)

    def get_approved_by(self, obj) -> str | None:
        return _username(obj.approved_by)


class OversightPlanSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_case = serializers.SerializerMethodField()
    latest_version = serializers.IntegerField(read_only=True)
    active_version = serializers.IntegerField(read_only=True, allow_null=True)
    active_name = serializers.CharField(read_only=True, allow_null=True)
    has_draft = serializers.SerializerMethodField()

    class Meta:
        model = OversightPlan
        fields = [
            "id",
            "project",
            "use_case",
            "latest_version",
            "active_version",
            "active_name",
            "has_draft",
            "created_at",
        ]
        read_only_fields = fields

    def get_use_case(self, obj) -> str | None:
        return obj.use_case.public_id if obj.use_case else None

    def get_has_draft(self, obj) -> bool:
        return bool(getattr(obj, "has_draft", 0))


class OversightPlanDetailSerializer(OversightPlanSerializer):
    versions = PlanVersionSerializer(many=True, read_only=True)

    class Meta(OversightPlanSerializer.Meta):
        fields = [*OversightPlanSerializer.Meta.fields, "versions"]
        read_only_fields = fields


class _PlanContentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    roles = serializers.ListField(child=serializers.DictField(), required=False)
    escalation_path = serializers.ListField(child=serializers.DictField(), required=False)
    hitl_checkpoints = serializers.ListField(child=serializers.DictField(), required=False)
    approval_required = serializers.BooleanField(required=False)
    intervention_role = serializers.CharField(max_length=120, required=False, allow_blank=True)
    fail_safe = serializers.CharField(required=False, allow_blank=True)
    fail_safe_not_applicable_reason = serializers.CharField(required=False, allow_blank=True)


class OversightPlanCreateSerializer(_PlanContentSerializer):
    project = ProjectKeyField()
    use_case = UseCaseIdField(required=False, allow_null=True, default=None)
    template = serializers.CharField(required=False, allow_blank=True, default="")
    change_summary = serializers.CharField(required=False, allow_blank=True, default="")


class OversightPlanNewVersionSerializer(_PlanContentSerializer):
    change_summary = serializers.CharField()


class ApproveSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, allow_null=True, default=None)


# --- stakeholders -------------------------------------------------------------------------------


class ObligationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    stakeholder = serializers.CharField(source="stakeholder.public_id", read_only=True)

    class Meta:
        model = ContractualObligation
        fields = [
            "id",
            "project",
            "stakeholder",
            "description",
            "sla_metric",
            "sla_target",
            "contract_reference",
            "status",
            "status_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StakeholderSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    use_case = serializers.CharField(source="use_case.public_id", read_only=True)
    obligations = ObligationSerializer(many=True, read_only=True)

    class Meta:
        model = Stakeholder
        fields = [
            "id",
            "project",
            "use_case",
            "name",
            "role",
            "organization",
            "contact_name",
            "contact_email",
            "responsibility_share",
            "responsibilities",
            "is_active",
            "obligations",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StakeholderCreateSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    name = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=Stakeholder.Role.choices)
    responsibility_share = serializers.DecimalField(max_digits=5, decimal_places=2)
    organization = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    responsibilities = serializers.CharField(required=False, allow_blank=True, default="")


class StakeholderUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    role = serializers.ChoiceField(choices=Stakeholder.Role.choices, required=False)
    responsibility_share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    organization = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    responsibilities = serializers.CharField(required=False, allow_blank=True)


class AllocationSerializer(serializers.Serializer):
    use_case = UseCaseIdField()
    shares = serializers.DictField(child=serializers.DecimalField(max_digits=5, decimal_places=2), allow_empty=False)


class ObligationCreateSerializer(serializers.Serializer):
    stakeholder = StakeholderIdField()
    description = serializers.CharField()
    sla_metric = serializers.ChoiceField(
        choices=[("", ""), *list(ContractualObligation.Metric.choices)], required=False, allow_blank=True, default=""
    )
    sla_target = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )
    contract_reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ObligationStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ContractualObligation.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- notifications ------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    project = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "project", "kind", "subject", "body", "url", "is_read", "read_at", "created_at"]
        read_only_fields = fields

    def get_project(self, obj) -> str | None:
        return obj.project.key if obj.project else None
