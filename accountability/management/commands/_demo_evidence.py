"""Transparency evidence of the demo agency (proj-101), loaded through the services by ``load_demo``.

Dates are relative to today so the demo shows a mix of current and stale evidence whenever it is loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone

from accountability.models import AIUseCase, ImpactAssessment, ModelCard, Project
from accountability.services import evidence_cards as cards
from accountability.services import evidence_feedback as feedback
from accountability.services import evidence_impact as impact
from accountability.services import evidence_measures as measures
from accountability.services import evidence_tracing as tracing
from accountability.services import evidence_waivers as waivers

SCREENER = "Benefits eligibility pre-screener"
CHATBOT = "Citizen services chatbot"


def _days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def screener_impact_assessment(users: dict, screener: AIUseCase) -> ImpactAssessment:
    """Sections A–G of the screener's assessment: drafted by staff, reviewed independently, risk signed by the CAIO."""
    staff, caio, reviewer = users["gov.staff"], users["caio"], users["reviewer"]
    ia = impact.impact_assessment_create(
        actor=staff,
        use_case=screener,
        purpose_and_benefits="Rank incoming applications so caseworkers review complete, likely-eligible ones first.",
        benefit_metrics=[
            {"name": "median days to first review", "target": "10", "baseline": "21"},
            {"name": "share of applications reviewed within 30 days", "target": "95%", "baseline": "78%"},
        ],
        data_quality="Application forms and quarterly wage records; reconciled monthly, 0.4% missing wage data.",
        protected_class_data="No protected-class attributes are inputs; age and household size are, and are monitored.",
        rights_impacts="A low ranking could delay a benefit decision for an eligible applicant.",
        mitigations="The score is advisory; every application is decided by a caseworker; appeals reach a supervisor.",
        reassessment_procedures="Yearly, and within 30 days of a model retraining or a change of eligibility rules.",
        costs="Vendor licence USD 180k a year; 0.5 FTE for monitoring and review.",
        estimated_annual_cost="240000.00",
    )
    impact.impact_assessment_score(
        actor=staff,
        assessment=ia,
        scores={
            "rights": 85,
            "affected_population": 70,
            "data_sensitivity": 80,
            "reversibility": 60,
            "human_oversight": 50,
            "bias": 65,
        },
    )
    impact.impact_assessment_submit(actor=staff, assessment=ia)
    impact.impact_assessment_review(
        actor=reviewer,
        assessment=ia,
        comments="Mitigations are adequate. Condition: publish the age-group disparity metrics quarterly.",
        recommendation="concur_with_conditions",
        reviewer_office="Office of Program Evaluation",
    )
    return impact.impact_assessment_accept_risk(
        actor=caio,
        assessment=ia,
        statement="I accept the residual risk of the pre-screener under the reviewer's condition.",
        acceptor_title="Chief AI Officer",
    )


def load_evidence(users: dict) -> None:
    """Model cards, fairness, confabulation, provenance, monitoring, tracing policy, waiver, feedback, training."""
    staff, caio, reviewer = users["gov.staff"], users["caio"], users["reviewer"]
    project = Project.objects.get(key="proj-101")
    screener = AIUseCase.objects.get(project=project, name=SCREENER)
    chatbot = AIUseCase.objects.get(project=project, name=CHATBOT)

    if not ImpactAssessment.objects.filter(use_case=screener).exists():
        screener_impact_assessment(users, screener)

    # Model cards: the screener's published; the chatbot's v1 published and v2 drafted.
    card = cards.model_card_create(
        actor=staff,
        use_case=screener,
        model_name="acme-eligibility-gbm",
        model_version="3.2",
        model_description="Gradient-boosted trees over 41 application and wage features.",
        intended_use="Order the caseworker queue; never to approve or deny a benefit.",
        out_of_scope_uses="Fraud detection; decisions without a caseworker.",
        limitations="Less accurate for self-employed applicants (sparse wage records).",
        training_data="2019–2024 applications with final determinations (1.2 M rows), de-identified.",
        evaluation="AUC 0.86 on the 2025 hold-out set; disparity metrics by age group and household size.",
        ethical_considerations="Protected classes excluded as inputs; proxies reviewed by the vendor and the agency.",
        contact="ai-governance@agency.example.gov",
        card_url="https://agency.example.gov/ai/model-cards/eligibility-screener",
    )
    cards.model_card_publish(actor=caio, card=card)
    chat_card = cards.model_card_create(
        actor=staff,
        use_case=chatbot,
        model_name="northwind-chat",
        model_version="2026-05",
        intended_use="Answer questions about programmes from the agency's public pages, with links.",
        limitations="May confabulate details not on the pages; it cannot see case files.",
        training_data="Vendor foundation model; retrieval over 3,400 public agency pages.",
        evaluation="Monthly citation checks on sampled answers (see confabulation checks).",
        ethical_considerations="Answers stay factual and neutral (M-26-04 Unbiased AI Principles).",
        contact="web-team@agency.example.gov",
    )
    cards.model_card_publish(actor=caio, card=chat_card)
    cards.model_card_new_version(
        actor=staff, card=chat_card, change_summary="Vendor model update", model_version="2026-10"
    )
    cards.vendor_artefacts_record(
        actor=staff,
        use_case=chatbot,
        vendor_name="Northwind LLM Services",
        contract_reference="GS-35F-0099X order 12",
        acceptable_use_policy_url="https://northwind.example.com/aup",
        model_card_url="https://northwind.example.com/model-card",
        end_user_resources_url="https://northwind.example.com/help",
    )
    artefacts = chatbot.vendor_artefacts
    cards.vendor_artefacts_review_card(
        actor=caio, artefacts=artefacts, notes="Limitations and evaluation sections are adequate; no system prompt."
    )

    # Fairness: a current assessment and a stale one of the previous model version.
    metrics = [
        {
            "group": "age 65+",
            "reference_group": "age 25-64",
            "metric": "demographic_parity_ratio",
            "value": 0.91,
            "threshold": 0.8,
        },
        {"group": "household size 5+", "metric": "equal_opportunity_difference", "value": 0.03, "threshold": 0.05},
    ]
    measures.fairness_assessment_record(
        actor=staff,
        use_case=screener,
        model_name="acme-eligibility-gbm",
        model_version="3.1",
        performed_on=_days(-200),
        method="Disaggregated evaluation on the 2024 hold-out set",
        metrics=[{**metrics[0], "value": 0.78}, metrics[1]],
        overall_result="mitigated",
        mitigation="Second caseworker review for applicants aged 65+ until retraining.",
    )
    measures.fairness_assessment_record(
        actor=staff,
        use_case=screener,
        model_name="acme-eligibility-gbm",
        model_version="3.2",
        performed_on=_days(-20),
        method="Disaggregated evaluation on the 2025 hold-out set",
        metrics=metrics,
        performed_by_name="Office of Program Evaluation",
    )

    # Confabulation checks of the chatbot.
    for days, sample, errors in ((-40, 200, 3), (-8, 250, 2)):
        measures.confabulation_check_record(
            actor=staff,
            use_case=chatbot,
            model_name="northwind-chat",
            model_version="2026-05",
            checked_on=_days(days),
            method="Sampled answers; every cited page opened and compared with the answer.",
            sample_size=sample,
            errors_found=errors,
            checks_citations=True,
            checks_factual_claims=True,
        )

    # Provenance: outputs of both use cases, chained and anchored in the ledger, then verified.
    now = timezone.now()
    for use_case, model, version, n in (
        (screener, "acme-eligibility-gbm", "3.2", 3),
        (chatbot, "northwind-chat", "2026-05", 2),
    ):
        for i in range(1, n + 1):
            ref = f"{use_case.public_id.lower()}://output/{i}"
            tracing.provenance_record_create(
                actor=staff,
                use_case=use_case,
                trace_id=hashlib.sha256(ref.encode()).hexdigest()[:32],
                data_sources=["applications-2026" if use_case == screener else "public-pages-2026-11"],
                model_name=model,
                model_version=version,
                output_reference=ref,
                output_hash=hashlib.sha256(f"output {ref}".encode()).hexdigest(),
                generated_at=now - dt.timedelta(hours=6 * (n - i + 1)),
            )
        tracing.provenance_verify_chain(actor=staff, use_case=use_case)

    policy = tracing.content_tracing_policy_propose(
        actor=staff,
        project=project,
        title="Content tracing and provenance policy",
        owner=staff,
        scope="Every screener score and chatbot answer carries a W3C trace id and a provenance record.",
        methods="Trace ids; hash-chained provenance records anchored in the ledger; vendor output logs.",
        retention_days=400,
        review_due_on=_days(200),
        tracing_enabled=True,
    )
    tracing.content_tracing_policy_approve(actor=caio, policy_version=policy)

    # Monitoring of the screener, one cycle with a breach and its corrective action.
    plan = measures.monitoring_plan_create(
        actor=staff,
        use_case=screener,
        name="Screener monthly performance and equity",
        metrics=[
            {"name": "precision_at_top_decile", "threshold": 0.8, "comparison": "at_least"},
            {"name": "caseworker_override_rate", "threshold": 0.15, "comparison": "at_most"},
            {"name": "age_65_impact_ratio", "threshold": 0.8, "comparison": "at_least"},
        ],
        frequency_days=30,
        starts_on=_days(-120),
        monitors_rights_impacts=True,
        human_review="A supervisor reviews 50 randomly chosen rankings each month.",
    )
    for days, values, action in (
        (-90, {"precision_at_top_decile": 0.84, "caseworker_override_rate": 0.09, "age_65_impact_ratio": 0.86}, ""),
        (
            -60,
            {"precision_at_top_decile": 0.79, "caseworker_override_rate": 0.17, "age_65_impact_ratio": 0.83},
            "Vendor retrained on Q3 data; overrides sampled weekly until back under 15%.",
        ),
        (-30, {"precision_at_top_decile": 0.85, "caseworker_override_rate": 0.11, "age_65_impact_ratio": 0.88}, ""),
    ):
        measures.monitoring_observation_record(
            actor=staff,
            plan=plan,
            observed_on=_days(days),
            metric_values=values,
            corrective_action=action,
            human_reviewed=True,
        )

    waiver = waivers.waiver_issue(
        actor=caio,
        use_case=screener,
        practices=["public_consultation"],
        basis="impedes_operations",
        determination="Public consultation before the statutory processing deadline would halt the backlog "
        "reduction; consultation follows within the year.",
        risk_assessment="The screener is advisory, every decision is a caseworker's, and appeals are open: "
        "deferring consultation does not raise the risk to applicants' rights.",
        granted_on=_days(-60),
        public_summary_url="https://agency.example.gov/ai/waivers/screener-consultation",
    )
    waivers.waiver_record_omb_report(actor=staff, waiver=waiver, event="grant", reported_on=_days(-45))

    channel = feedback.feedback_channel_create(
        actor=staff,
        use_case=chatbot,
        name="Was this answer helpful?",
        method="in_app",
        audience="end_users",
        url="https://agency.example.gov/chat",
        description="Thumbs-down with an optional comment under each answer.",
    )
    feedback.feedback_channel_create(
        actor=staff,
        use_case=chatbot,
        name="Report a violating output (staff)",
        method="email",
        audience="internal",
        contact="llm-issues@agency.example.gov",
    )
    triaged = feedback.feedback_item_record(
        actor=staff,
        channel=channel,
        category="error",
        summary="Linked to a retired application form.",
        received_at=now - dt.timedelta(days=12),
    )
    feedback.feedback_item_triage(actor=staff, item=triaged, outcome="corrected", note="Page re-indexed.")
    feedback.feedback_item_record(
        actor=staff,
        channel=channel,
        category="bias",
        summary="Answer assumed the applicant was a citizen.",
        received_at=now - dt.timedelta(days=40),
    )
    feedback.feedback_item_record(
        actor=staff,
        channel=channel,
        category="praise",
        summary="Clear answer about office hours.",
        received_at=now - dt.timedelta(days=2),
    )

    measures.operator_training_record(
        actor=staff,
        use_case=screener,
        operator=reviewer,
        course="Eligibility pre-screener: reading the score",
        completed_on=_days(-100),
        assessment_passed=True,
        provider="Office of Benefits Determination",
    )
    measures.operator_training_record(
        actor=staff,
        use_case=screener,
        operator_name="Caseworker team B (12 staff)",
        course="Eligibility pre-screener: reading the score",
        completed_on=_days(-60),
        assessment_passed=True,
    )
    measures.operator_training_record(
        actor=staff,
        use_case=screener,
        operator_name="Night-shift caseworker pool",
        course="Eligibility pre-screener: reading the score",
        completed_on=_days(-400),
        expires_on=_days(-35),
    )


def has_evidence() -> bool:
    return ModelCard.objects.filter(project__key="proj-101").exists()
