"""Serializers of audit runs, check results, the gate and the catalogue."""

from __future__ import annotations

from rest_framework import serializers

from assessors.models import AuditRun, CheckResult


class AuditRequestSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="Project key, e.g. proj-101.")
    frameworks = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Codes or keys; empty: every one."
    )
    checks = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Check ids or aliases; empty: all."
    )


class CheckResultSerializer(serializers.ModelSerializer):
    run = serializers.CharField(source="run.public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    evaluated_at = serializers.DateTimeField(source="run.evaluated_at", read_only=True)

    class Meta:
        model = CheckResult
        fields = [
            "id",
            "run",
            "project",
            "evaluated_at",
            "check_id",
            "aliases",
            "title",
            "framework",
            "credits",
            "check_version",
            "framework_version",
            "severity",
            "status",
            "summary",
            "subjects_total",
            "subjects_failing",
            "evidence",
            "remediation",
        ]
        read_only_fields = fields


class AuditRunSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.key", read_only=True)
    score = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = AuditRun
        fields = [
            "id",
            "project",
            "evaluated_at",
            "duration_ms",
            "trigger",
            "actor_label",
            "requested_frameworks",
            "requested_checks",
            "catalogue_digest",
            "framework_versions",
            "score",
            "checks_total",
            "checks_passed",
            "checks_partial",
            "checks_failed",
            "checks_not_applicable",
            "gate_status",
            "ledger_entry_id",
        ]
        read_only_fields = fields


class AuditRunDetailSerializer(AuditRunSerializer):
    results = CheckResultSerializer(many=True, read_only=True)

    class Meta(AuditRunSerializer.Meta):
        fields = [*AuditRunSerializer.Meta.fields, "coverage", "gaps", "gate", "results"]
        read_only_fields = fields


class GateConditionSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["blocking", "warning"])
    title = serializers.CharField()
    citation = serializers.CharField()
    threshold = serializers.DictField()
    applicable = serializers.BooleanField()
    triggered = serializers.BooleanField()
    detail = serializers.CharField()
    objects = serializers.ListField(child=serializers.DictField())
    objects_total = serializers.IntegerField()


class GateSerializer(serializers.Serializer):
    project = serializers.CharField()
    evaluated_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["passed", "warnings", "blocked"])
    score = serializers.FloatField(allow_null=True)
    summary = serializers.DictField(child=serializers.IntegerField())
    blocking = GateConditionSerializer(many=True)
    warnings = GateConditionSerializer(many=True)
    conditions = GateConditionSerializer(many=True)
    thresholds_source = serializers.CharField()


class CatalogueCheckSerializer(serializers.Serializer):
    id = serializers.CharField()
    framework = serializers.CharField()
    version = serializers.IntegerField()
    aliases = serializers.ListField(child=serializers.CharField())
    title = serializers.CharField()
    description = serializers.CharField()
    citation = serializers.CharField()
    credits = serializers.ListField(child=serializers.CharField())
    severity = serializers.CharField()
    applies_to = serializers.CharField()
    effective_from = serializers.DateField(allow_null=True)
    deprecated = serializers.BooleanField()
    subjects = serializers.CharField()
    rule = serializers.DictField()
    aggregate = serializers.DictField(allow_null=True)
    remediation = serializers.CharField()


class FrameworkSerializer(serializers.Serializer):
    code = serializers.CharField()
    key = serializers.CharField()
    title = serializers.CharField()
    short_title = serializers.CharField()
    issuer = serializers.CharField()
    version = serializers.CharField()
    issued = serializers.DateField()
    effective_from = serializers.DateField(allow_null=True)
    effective_until = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    applicability = serializers.DictField()
    sources = serializers.ListField(child=serializers.DictField())
    checks = serializers.ListField(child=serializers.CharField())


class FrameworkDetailSerializer(FrameworkSerializer):
    requirements = serializers.ListField(child=serializers.DictField())
