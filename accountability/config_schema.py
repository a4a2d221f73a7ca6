"""JSON Schema of the governance policy file (icdev/config/ai_accountability_config.yaml)."""

_CHECKPOINT = {
    "type": "object",
    "required": ["decision", "approval_required", "approver_roles"],
    "properties": {
        "decision": {"type": "string", "minLength": 1},
        "approval_required": {"type": "boolean"},
        "approver_roles": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
    "additionalProperties": False,
}
_ROLE = {
    "type": "object",
    "required": ["role", "assignee"],
    "properties": {
        "role": {"type": "string", "minLength": 1},
        "assignee": {"type": "string", "minLength": 1},
        "responsibilities": {"type": "string"},
    },
    "additionalProperties": False,
}
_ESCALATION_STEP = {
    "type": "object",
    "required": ["level", "role", "trigger"],
    "properties": {
        "level": {"type": "integer", "minimum": 1},
        "role": {"type": "string", "minLength": 1},
        "trigger": {"type": "string", "minLength": 1},
        "within_hours": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}

_WEEKDAY = {"enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]}
_DISCIPLINES = ["legal", "privacy", "civil_rights", "technical", "domain", "affected_community"]
_SCALE = {
    "type": "object",
    "required": ["min", "max"],
    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
    "additionalProperties": False,
}
_CRITERION = {
    "type": "object",
    "required": ["id", "label", "weight"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "label": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "weight": {"type": "number", "exclusiveMinimum": 0},
        "scale": _SCALE,
        "veto_below": {"type": "integer"},
    },
    "additionalProperties": False,
}
_RUBRIC = {
    "type": "object",
    "required": ["key", "version", "title", "scale", "thresholds", "criteria"],
    "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "version": {"type": "integer", "minimum": 1},
        "title": {"type": "string", "minLength": 1},
        "scale": _SCALE,
        "thresholds": {
            "type": "object",
            "required": ["approve", "approve_with_conditions"],
            "properties": {
                "approve": {"type": "number", "minimum": 0, "maximum": 1},
                "approve_with_conditions": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "additionalProperties": False,
        },
        "criteria": {"type": "array", "items": _CRITERION, "minItems": 1},
    },
    "additionalProperties": False,
}
_QUORUM_RULE = {
    "type": "object",
    "required": ["title", "min_scores", "wait_for"],
    "properties": {
        "title": {"type": "string"},
        "min_scores": {"type": "integer", "minimum": 1},
        "min_fraction": {"type": "number", "minimum": 0, "maximum": 1},
        "required_disciplines": {"type": "array", "items": {"enum": _DISCIPLINES}, "uniqueItems": True},
        "wait_for": {"enum": ["all", "quorum"]},
    },
    "additionalProperties": False,
}

PLAN_CONTENT_SCHEMAS = {"roles": _ROLE, "escalation_path": _ESCALATION_STEP, "hitl_checkpoints": _CHECKPOINT}

_DAYS = {"type": "integer", "minimum": 1}
_FRACTION = {"type": "number", "minimum": 0, "maximum": 1}
_SCORE = {"type": "number", "minimum": 0, "maximum": 100}
IMPACT_DIMENSIONS = ("rights", "affected_population", "data_sensitivity", "reversibility", "human_oversight", "bias")

_EVIDENCE = {
    "type": "object",
    "required": [
        "fairness_freshness_days",
        "fairness_ratio_warning",
        "confabulation_max_error_rate",
        "training_validity_days",
        "feedback_triage_days",
        "min_retention_days",
    ],
    "properties": {
        "fairness_freshness_days": _DAYS,
        "fairness_ratio_warning": _FRACTION,
        "confabulation_max_error_rate": _FRACTION,
        "training_validity_days": _DAYS,
        "feedback_triage_days": _DAYS,
        "min_retention_days": _DAYS,
    },
    "additionalProperties": False,
}
_IMPACT_ASSESSMENT = {
    "type": "object",
    "required": ["weights", "thresholds", "reassessment_frequency_days"],
    "properties": {
        "weights": {
            "type": "object",
            "required": list(IMPACT_DIMENSIONS),
            "properties": dict.fromkeys(IMPACT_DIMENSIONS, _FRACTION),
            "additionalProperties": False,
        },
        "thresholds": {
            "type": "object",
            "required": ["high", "medium"],
            "properties": {"high": _SCORE, "medium": _SCORE},
            "additionalProperties": False,
        },
        "reassessment_frequency_days": _DAYS,
    },
    "additionalProperties": False,
}
_WAIVERS = {
    "type": "object",
    "required": ["recertification_days", "omb_report_days"],
    "properties": {"recertification_days": _DAYS, "omb_report_days": _DAYS},
    "additionalProperties": False,
}

_SEVERITY = {"enum": ["critical", "high", "medium", "low"]}
_POSITIVE = {"type": "integer", "minimum": 1}
_SLUG = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40}

INCIDENTS_SCHEMA = {
    "type": "object",
    "required": [
        "sla_hours",
        "sla_at_risk_hours",
        "severity_by_type",
        "extra_types",
        "eu_serious_incident_days",
        "stakeholder_notification_default_hours",
        "notify_stakeholders_on_log",
    ],
    "properties": {
        "sla_hours": {
            "type": "object",
            "required": ["critical", "high", "medium", "low"],
            "properties": dict.fromkeys(("critical", "high", "medium", "low"), _POSITIVE),
            "additionalProperties": False,
        },
        "sla_at_risk_hours": {"type": "integer", "minimum": 0},
        "severity_by_type": {"type": "object", "propertyNames": _SLUG, "additionalProperties": _SEVERITY},
        "extra_types": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "label"],
                "properties": {
                    "key": _SLUG,
                    "label": {"type": "string", "minLength": 1, "maxLength": 80},
                    "default_severity": _SEVERITY,
                },
                "additionalProperties": False,
            },
        },
        "eu_serious_incident_days": {
            "type": "object",
            "required": ["general", "death", "widespread_infringement", "critical_infrastructure"],
            "properties": dict.fromkeys(
                ("general", "death", "widespread_infringement", "critical_infrastructure"), _POSITIVE
            ),
            "additionalProperties": False,
        },
        "stakeholder_notification_default_hours": _POSITIVE,
        "notify_stakeholders_on_log": {"type": "boolean"},
    },
    "additionalProperties": False,
}

REASSESSMENTS_SCHEMA = {
    "type": "object",
    "required": ["frequency_presets", "due_soon_days", "assessment_types"],
    "properties": {
        "frequency_presets": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _SLUG,
            "additionalProperties": _POSITIVE,
        },
        "due_soon_days": {"type": "integer", "minimum": 0},
        "assessment_types": {"type": "array", "items": _SLUG, "minItems": 1, "uniqueItems": True},
    },
    "additionalProperties": False,
}

GATE_SCHEMA = {
    "type": "object",
    "required": [
        "caio_required_for_federal",
        "oversight_plan_required_for_high_impact",
        "critical_incident_sla_hours",
        "appeal_assignment_sla_business_days",
        "reassessment_overdue_warning_days",
        "ethics_review_new_use_case_days",
        "min_check_pass_pct",
        "blocking_checks",
    ],
    "properties": {
        "caio_required_for_federal": {"type": "boolean"},
        "oversight_plan_required_for_high_impact": {"type": "boolean"},
        "critical_incident_sla_hours": _POSITIVE,
        "appeal_assignment_sla_business_days": _POSITIVE,
        "reassessment_overdue_warning_days": {"type": "integer", "minimum": 0},
        "ethics_review_new_use_case_days": _POSITIVE,
        "min_check_pass_pct": {"type": "number", "minimum": 0, "maximum": 100},
        # Check ids are validated against the framework catalogues by the assessors (check_frameworks).
        "blocking_checks": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Z][A-Z0-9]*-[A-Z0-9]+(-[0-9]+)?$"},
            "uniqueItems": True,
        },
    },
    "additionalProperties": False,
}

CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "version",
        "caio",
        "oversight_plan_templates",
        "calendar",
        "appeals",
        "ethics",
        "evidence",
        "impact_assessment",
        "waivers",
        "incidents",
        "reassessments",
        "escalation",
        "webhooks",
        "gate",
    ],
    "properties": {
        "version": {"const": 1},
        "caio": {
            "type": "object",
            "required": ["scope_order", "delegable_powers", "non_delegable_powers", "omb_notification_days"],
            "properties": {
                "scope_order": {"type": "array", "items": {"enum": ["project", "program", "agency"]}, "minItems": 3},
                "delegable_powers": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "non_delegable_powers": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "omb_notification_days": {"type": "integer", "minimum": 1},
            },
            "additionalProperties": False,
        },
        "oversight_plan_templates": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["title", "approval_required", "roles", "escalation_path", "hitl_checkpoints"],
                "properties": {
                    "title": {"type": "string"},
                    "approval_required": {"type": "boolean"},
                    "intervention_role": {"type": "string"},
                    "roles": {"type": "array", "items": _ROLE},
                    "escalation_path": {"type": "array", "items": _ESCALATION_STEP},
                    "hitl_checkpoints": {"type": "array", "items": _CHECKPOINT},
                    "fail_safe": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
        "calendar": {
            "type": "object",
            "required": ["timezone", "weekend"],
            "properties": {
                "timezone": {"type": "string", "minLength": 1},
                "weekend": {"type": "array", "items": _WEEKDAY, "uniqueItems": True, "maxItems": 6},
                "holidays": {"type": "array", "items": {"type": "string", "format": "date"}, "uniqueItems": True},
            },
            "additionalProperties": False,
        },
        "appeals": {
            "type": "object",
            "required": ["assignment_sla_business_days", "decision_sla_days"],
            "properties": {
                "assignment_sla_business_days": {"type": "integer", "minimum": 1},
                "decision_sla_days": {"type": "integer", "minimum": 1},
            },
            "additionalProperties": False,
        },
        "ethics": {
            "type": "object",
            "required": ["score_timeout_days", "default_rubric", "default_quorum", "quorum_rules", "rubrics"],
            "properties": {
                "score_timeout_days": {"type": "integer", "minimum": 1},
                "default_rubric": {"type": "string"},
                "default_quorum": {"type": "string"},
                "quorum_rules": {"type": "object", "minProperties": 1, "additionalProperties": _QUORUM_RULE},
                "rubrics": {"type": "array", "items": _RUBRIC, "minItems": 1},
            },
            "additionalProperties": False,
        },
        "evidence": _EVIDENCE,
        "impact_assessment": _IMPACT_ASSESSMENT,
        "waivers": _WAIVERS,
        "incidents": INCIDENTS_SCHEMA,
        "reassessments": REASSESSMENTS_SCHEMA,
        "escalation": {
            "type": "object",
            "required": ["caio_delay_hours"],
            "properties": {"caio_delay_hours": {"type": "integer", "minimum": 0}},
            "additionalProperties": False,
        },
        "webhooks": {
            "type": "object",
            "required": ["max_attempts", "backoff_base_seconds", "backoff_max_seconds", "timeout_seconds"],
            "properties": {
                "max_attempts": _POSITIVE,
                "backoff_base_seconds": _POSITIVE,
                "backoff_max_seconds": _POSITIVE,
                "timeout_seconds": _POSITIVE,
            },
            "additionalProperties": False,
        },
        "gate": GATE_SCHEMA,
    },
    # Later capabilities add their own sections (appeals, ethics, gate) to this schema.
    "additionalProperties": False,
}
