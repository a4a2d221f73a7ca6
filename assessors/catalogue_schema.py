"""JSON Schema of a framework catalogue (``assessors/frameworks/*.yaml``).

The schema fixes the shape; ``catalogue.py`` then checks what a schema cannot: ids unique across every
file, aliases that collide with nothing, requirement references that exist, known models and fields,
registered evaluators, and parameters used in filters that the rule declares.
"""

from __future__ import annotations

RULE_TYPES = (
    "exists",
    "match",
    "freshness",
    "sla",
    "ratio",
    "completeness",
    "deadline",
    "all_of",
    "any_of",
    "python",
)
OUTCOMES = {"enum": ["fail", "partial"]}
CHECK_ID = r"^[A-Z][A-Z0-9]*-[A-Z]{2,4}-[0-9]{2}$"
ALIAS_ID = r"^[A-Z][A-Z0-9]*-[0-9]{3}$"

# A threshold or other parameter: a value (or a policy-file key) and where it comes from.
PARAM = {
    "type": "object",
    "required": ["provenance"],
    "properties": {
        "value": {"type": ["number", "integer", "string", "boolean", "array"]},
        "policy": {"type": "string", "pattern": r"^[a-z_]+(\.[a-z_]+)+$"},
        "provenance": {"enum": ["F", "D"]},
        "note": {"type": "string"},
    },
    "oneOf": [{"required": ["value"]}, {"required": ["policy"]}],
    "additionalProperties": False,
}
FILTER = {"type": "object"}
RELATED = {
    "model": {"type": "string"},
    "link": {"type": "string", "pattern": r"^[a-z_]+(__[a-z_]+)*$"},
    "via": {"type": "string", "pattern": r"^[a-z_]+$"},
    "filter": FILTER,
    "params": {"type": "object", "additionalProperties": PARAM},
    "at_most": {"enum": ["partial"]},
    "missing": OUTCOMES,
    "label": {"type": "string"},
}


def _rule(type_name: str, required: list[str], **props) -> dict:
    return {
        "if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
        "then": {
            "required": ["type", *required],
            "properties": {"type": {"const": type_name}, **RELATED, **props},
            "additionalProperties": False,
        },
    }


RULE = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": list(RULE_TYPES)}},
    "allOf": [
        _rule("exists", ["model", "link"], min_count=PARAM),
        _rule("match", ["filter"]),
        _rule(
            "freshness",
            ["model", "link", "date_field", "max_age_days"],
            date_field={"type": "string"},
            max_age_days=PARAM,
            stale=OUTCOMES,
        ),
        _rule(
            "sla",
            ["model", "link", "age_from", "max_age"],
            age_from={"type": "string"},
            unit={"enum": ["days", "hours", "business_days"]},
            max_age=PARAM,
            tolerance=PARAM,
            breach=OUTCOMES,
        ),
        _rule(
            "ratio",
            ["model", "link", "good", "pass_ratio"],
            good=FILTER,
            pass_ratio=PARAM,
            partial_ratio=PARAM,
            empty={"enum": ["fail", "partial", "ok", "not_applicable"]},
        ),
        _rule("completeness", ["fields"], fields={"type": "array", "minItems": 1}, partial_ratio=PARAM),
        _rule("deadline", ["due", "rule"], due=PARAM, rule={"$ref": "#/$defs/rule"}),
        _rule("all_of", ["rules"], rules={"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/rule"}}),
        _rule("any_of", ["rules"], rules={"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/rule"}}),
        _rule("python", ["evaluator"], evaluator={"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}),
    ],
}
CITATION = {
    "type": "object",
    "required": ["source", "ref", "verified"],
    "properties": {
        "source": {"type": "string"},
        "ref": {"type": "string", "minLength": 1},
        "verified": {"enum": ["primary", "secondary", "unverified"]},
        "note": {"type": "string"},
    },
    "additionalProperties": False,
}
REQUIREMENT = {
    "type": "object",
    "required": ["id", "title"],
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9().\-]*$"},
        "title": {"type": "string", "minLength": 1},
        "citation": CITATION,
        "obligation": {"enum": ["must", "should", "suggested"]},
        "note": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/requirement"}},
    },
    "additionalProperties": False,
}
CHECK = {
    "type": "object",
    "required": ["id", "version", "title", "requirements", "citation", "severity", "subjects", "rule", "remediation"],
    "properties": {
        "id": {"type": "string", "pattern": CHECK_ID},
        "version": {"type": "integer", "minimum": 1},
        "aliases": {"type": "array", "items": {"type": "string", "pattern": ALIAS_ID}, "uniqueItems": True},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "requirements": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        "satisfies": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^[A-Z][A-Z0-9]*:.+$"},
            "uniqueItems": True,
        },
        "citation": CITATION,
        "severity": {"enum": ["critical", "high", "medium", "low"]},
        "projects": {"enum": ["framework", "all"]},
        "effective_from": {"type": "string", "format": "date"},
        "deprecated": {"type": "boolean"},
        "subjects": {
            "type": "object",
            "required": ["model", "label"],
            "properties": {"model": {"type": "string"}, "filter": FILTER, "label": {"type": "string"}},
            "additionalProperties": False,
        },
        "rule": {"$ref": "#/$defs/rule"},
        "aggregate": {
            "type": "object",
            "required": ["pass_ratio"],
            "properties": {"pass_ratio": PARAM, "partial_ratio": PARAM, "partial_if_any": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "remediation": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}
CATALOGUE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"rule": RULE, "requirement": REQUIREMENT},
    "type": "object",
    "required": ["format", "framework", "requirements", "checks"],
    "properties": {
        "format": {"const": 1},
        "framework": {
            "type": "object",
            "required": ["code", "key", "title", "short_title", "issuer", "version", "issued", "status", "sources"],
            "properties": {
                "code": {"type": "string", "pattern": r"^[A-Z][A-Z0-9]*$"},
                "key": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"},
                "title": {"type": "string"},
                "short_title": {"type": "string"},
                "issuer": {"type": "string"},
                "version": {"type": "string", "minLength": 1},
                "order": {"type": "integer", "minimum": 0},
                "issued": {"type": "string", "format": "date"},
                "effective_from": {"type": "string", "format": "date"},
                "effective_until": {"type": ["string", "null"], "format": "date"},
                "status": {"enum": ["in_force", "superseded", "repealed", "pending", "voluntary"]},
                "supersedes": {"type": "array", "items": {"type": "string"}},
                "applicability": {
                    "type": "object",
                    "required": ["description"],
                    "properties": {"description": {"type": "string"}, "projects": FILTER},
                    "additionalProperties": False,
                },
                "sources": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["id", "kind", "title"],
                        "properties": {
                            "id": {"type": "string"},
                            "kind": {"enum": ["primary", "secondary"]},
                            "title": {"type": "string"},
                            "url": {"type": "string"},
                            "note": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                },
                "deadlines": {"type": "object", "additionalProperties": {"type": "string", "format": "date"}},
                "note": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "requirements": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/requirement"}},
        "checks": {"type": "array", "items": CHECK},
    },
    "additionalProperties": False,
}
