"""Which inventory fields a use case's stage requires (OMB 2025 AI use-case inventory guidance)."""

from __future__ import annotations

from dataclasses import dataclass, field

from accountability.models import AIUseCase

Stage = AIUseCase.Stage

# (field, label) pairs, cumulative by stage, mirroring the OMB reporting table.
EVERY_ENTRY = [
    ("name", "Name"),
    ("bureau", "Bureau / component"),
    ("contact_email", "Contact"),
    ("stage", "Stage"),
    ("high_impact_determination", "High-impact determination"),
]
ACTIVE_ENTRY = [
    ("topic_area", "Topic area"),
    ("purpose", "Purpose / problem"),
    ("benefits", "Benefits"),
    ("outputs", "Outputs"),
]
OPERATING_ENTRY = [
    ("operational_date", "Operational date"),
    ("development_method", "Vendor or in-house"),
    ("ato_system_name", "ATO / system name"),
    ("data_description", "Data description"),
    ("involves_pii", "Involves PII"),
    ("demographic_features", "Demographic features"),
    ("has_custom_code", "Custom code"),
]


@dataclass
class CompletenessReport:
    """Missing inventory fields of one use case for its stage."""

    use_case_id: str
    stage: str
    required: list[str] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def percent(self) -> float:
        if not self.required:
            return 100.0
        return round(100.0 * (len(self.required) - len(self.missing)) / len(self.required), 1)

    def as_dict(self) -> dict:
        return {
            "use_case_id": self.use_case_id,
            "stage": self.stage,
            "complete": self.complete,
            "percent": self.percent,
            "required": self.required,
            "missing": self.missing,
        }


def _is_blank(use_case: AIUseCase, name: str) -> bool:
    value = getattr(use_case, name)
    if name == "high_impact_determination":
        return value == AIUseCase.HighImpact.NOT_ASSESSED
    return value is None or value == "" or value == [] or value == {}


def completeness_report(use_case: AIUseCase) -> CompletenessReport:
    """The required fields of the use case's stage and which of them are missing, with a reason."""
    stage = use_case.stage
    required = list(EVERY_ENTRY)
    if stage in (Stage.PRE_DEPLOYMENT, Stage.PILOT, Stage.DEPLOYED):
        required += ACTIVE_ENTRY
    if stage in (Stage.PILOT, Stage.DEPLOYED):
        required += OPERATING_ENTRY
    report = CompletenessReport(use_case.public_id, stage, [name for name, _ in required])
    for name, label in required:
        if _is_blank(use_case, name):
            report.missing.append({"field": name, "label": label, "reason": f"required at stage {stage}"})
    # Conditional requirements.
    if use_case.withheld and not use_case.withheld_reason:
        report.required.append("withheld_reason")
        report.missing.append({"field": "withheld_reason", "label": "Reason withheld", "reason": "entry is withheld"})
    if stage in (Stage.PILOT, Stage.DEPLOYED):
        if use_case.involves_pii:
            report.required.append("pia_url")
            if not use_case.pia_url:
                report.missing.append({"field": "pia_url", "label": "PIA link", "reason": "the use case involves PII"})
        if use_case.has_custom_code:
            report.required.append("code_url")
            if not use_case.code_url:
                report.missing.append({"field": "code_url", "label": "Code URL", "reason": "custom code exists"})
    if stage == Stage.DEPLOYED and use_case.is_high_impact:
        for practice in AIUseCase.MINIMUM_PRACTICES:
            key = f"minimum_practices.{practice}"
            report.required.append(key)
            status = (use_case.minimum_practices or {}).get(practice)
            if status in (None, "", AIUseCase.PracticeStatus.NOT_STARTED):
                report.missing.append(
                    {
                        "field": key,
                        "label": practice.replace("_", " ").capitalize(),
                        "reason": "required of high-impact deployed use cases (M-25-21 §4(b))",
                    }
                )
    return report
