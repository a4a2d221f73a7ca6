"""Demo incidents and reassessment schedules for proj-101, loaded through the services (load_demo)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accountability.actors import SystemActor
from accountability.models import AIUseCase, Incident, Project
from accountability.services import incident_actions as actions
from accountability.services import incident_coordination as coord
from accountability.services import incident_lifecycle as life
from accountability.services import incidents as svc
from accountability.services import reassessments as ras
from accountability.services.incident_sweep import incident_sla_sweep
from accountability.services.reassessment_sweep import reassessment_sweep


def load_incidents_and_reassessments(users: dict) -> bool:
    """Incidents in several states and schedules on track, due and overdue; False when already loaded."""
    project = Project.objects.filter(key="proj-101").first()
    if project is None or Incident.objects.filter(project=project).exists():
        return False
    staff, caio, responder, reviewer = users["gov.staff"], users["caio"], users["responder"], users["reviewer"]
    now, today = timezone.now(), timezone.localdate()
    use_cases = {uc.name: uc for uc in AIUseCase.objects.filter(project=project)}
    screener = use_cases["Benefits eligibility pre-screener"]
    chatbot = use_cases["Citizen services chatbot"]
    assistant = use_cases["AI coding assistant for agency developers"]

    # 1. A critical confabulation, reported six days ago and still under investigation: breached and escalated.
    hallucination = svc.incident_log(
        actor=responder,
        project=project,
        title="Chatbot cited a benefit rule that does not exist",
        severity="critical",
        incident_type="confabulation",
        description="The chatbot told applicants that a 2024 rule waives the income test for veterans.",
        use_cases=[chatbot],
        affected_systems=["PUBLIC-WEB"],
        reported_at=now - dt.timedelta(days=6),
        detected_at=now - dt.timedelta(days=6, hours=3),
        source="Contact-centre complaints",
        data_reported="Chat transcripts 2026-04-11 to 2026-04-13 (ticket CX-4471).",
        impacts="About 140 applicants given wrong eligibility information.",
        stakeholders_impacted="Applicants; contact-centre staff.",
        assigned_to=responder,
    )
    life.incident_investigate(actor=responder, incident=hallucination, note="Reproduced with the April prompt set.")

    # 2. High-severity bias in the screener: mitigated, an EU serious incident, parties coordinated.
    bias = svc.incident_log(
        actor=reviewer,
        project=project,
        title="Screener ranks large households lower",
        severity="high",
        incident_type="bias_detected",
        description="Applications from households of six or more are ranked lower at equal eligibility.",
        use_cases=[screener],
        affected_systems=["BENEFITS-CORE"],
        detected_at=now - dt.timedelta(days=2),
        source="Quarterly fairness review",
        data_reported="Fairness run FR-2026-Q2 (disparity 0.71).",
        impacts="Slower processing for large households.",
        stakeholders_impacted="Applicants with large households.",
    )
    svc.incident_assign(actor=staff, incident=bias, assignee=responder)
    life.incident_investigate(actor=responder, incident=bias)
    life.incident_mitigate(actor=responder, incident=bias, note="Household size removed from the ranking features.")
    coord.incident_flag_eu_serious(actor=responder, incident=bias, basis="general", note="EU residents apply too.")
    coord.incident_record_eu_notification(actor=responder, incident=bias, party="provider")
    vendor_notice = bias.stakeholder_notices.filter(stakeholder__name="Acme Decision Systems").first()
    if vendor_notice is not None and vendor_notice.notified_at is not None:
        coord.incident_record_stakeholder_ack(
            actor=responder, notice=vendor_notice, acknowledged_by_name="R. Alvarez", acknowledgement="Retraining."
        )
    actions.corrective_action_add(
        actor=responder,
        incident=bias,
        description="Retrain the ranking model without household size and re-run the fairness suite.",
        due_date=today + dt.timedelta(days=10),
        owner_name="Acme Decision Systems",
    )
    actions.corrective_action_add(
        actor=responder,
        incident=bias,
        description="Add household size to the quarterly disparity dashboard.",
        due_date=today + dt.timedelta(days=21),
        owner=staff,
    )

    # 3. Model drift, resolved and closed with its lessons.
    drift = svc.incident_log(
        actor=responder,
        project=project,
        title="Screener accuracy dropped after the wage-data refresh",
        severity="medium",
        incident_type="model_drift",
        use_cases=[screener],
        source="Monitoring alert",
        reported_at=now - dt.timedelta(days=20),
    )
    life.incident_investigate(actor=responder, incident=drift)
    life.incident_resolve(
        actor=responder,
        incident=drift,
        root_cause="The refreshed wage file changed its units from weekly to monthly.",
        root_cause_tags=["deployment_failure", "verification_failure"],
    )
    life.incident_close(actor=responder, incident=drift, lessons_learned="Validate units on every data refresh.")

    # 4. An AI coding agent pushed a credential (a configured extra type): open, unassigned.
    svc.incident_log(
        actor=staff,
        project=project,
        title="Agent session committed an API token",
        incident_type="agent_misuse",
        use_cases=[assistant],
        affected_systems=["DEV-PLATFORM"],
        source="Secret scanning",
    )

    # Reassessments: one due soon, one overdue, one on track with a completion, one project-wide.
    ras.reassessment_create(
        actor=staff,
        project=project,
        use_case=screener,
        assessment_type="impact_assessment",
        preset="annual",
        first_due=today + dt.timedelta(days=10),
        assigned_to=caio,
    )
    ras.reassessment_create(
        actor=staff,
        project=project,
        use_case=chatbot,
        assessment_type="transparency_audit",
        preset="quarterly",
        first_due=today - dt.timedelta(days=20),
        assigned_to=staff,
    )
    security = ras.reassessment_create(
        actor=staff,
        project=project,
        use_case=assistant,
        assessment_type="security_review",
        preset="semi_annual",
        first_due=today + dt.timedelta(days=5),
        assigned_to=staff,
    )
    ras.reassessment_complete(
        actor=staff, schedule=security, evidence_url="https://evidence.agency.example.gov/sec-review-2026-1"
    )
    ras.reassessment_create(actor=staff, project=project, assessment_type="oversight_plan_review", preset="annual")

    # What beat would have done by now.
    incident_sla_sweep(actor=SystemActor("cli:load_demo"))
    reassessment_sweep(actor=SystemActor("cli:load_demo"))
    return True
