"""load_demo: realistic demo data for a federal agency, loaded through the services (idempotent)."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from accountability.actors import SystemActor
from accountability.ledger.demo import has_demo_ledger, load_demo_ledger
from accountability.ledger.services.integration import integrate_pending
from accountability.models import Appeal, CAIODesignation, Membership, Project
from accountability.services import caio as caio_svc
from accountability.services import oversight as plan_svc
from accountability.services import projects as project_svc
from accountability.services import stakeholders as sh_svc
from accountability.services import use_cases as uc_svc

from . import _demo_evidence as demo_evidence
from . import _demo_workflows as demo_workflows
from ._demo_incidents import load_incidents_and_reassessments

Role = Membership.Role
DEMO_PASSWORD = "icdev-demo-2026"  # noqa: S105 - demo data only; printed on purpose
SEEDER = SystemActor("cli:load_demo")

# username, full name, role in proj-101 (None: superuser), staff?
DEMO_USERS = [
    ("admin", "Portal Administrator", None, True),
    ("gov.staff", "Grace Okafor", Role.GOVERNANCE_STAFF, True),
    ("caio", "Dr. Maya Chen", Role.CAIO, True),
    ("reviewer", "Samuel Reyes", Role.REVIEWER, False),
    ("ethics.board", "Aisha Rahman", Role.ETHICS_BOARD, False),
    ("ethics.legal", "Marcus Levin", Role.ETHICS_BOARD, False),
    ("ethics.community", "Rosa Delgado", Role.ETHICS_BOARD, False),
    ("responder", "Tom Becker", Role.INCIDENT_RESPONDER, True),
    ("auditor", "Helen Park", Role.AUDITOR, True),
    ("appellant", "Jordan Miles", Role.APPELLANT, False),
    ("outsider", "Olivia Grant", None, True),  # governance staff of proj-202 only
]


class Command(BaseCommand):
    help = "Load the demo agency (proj-101), a second project (proj-202) and one user per role; safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the logins as JSON.")

    def handle(self, *args, **opts):
        users = self.ensure_users()
        created = False
        if not Project.objects.filter(key="proj-101").exists():
            with transaction.atomic():
                self.load_agency(users)
                self.load_second_project(users)
            created = True
        # The AI's recorded decisions come before the appeals against them, so an appeal links the
        # Decision entry with its trace id (and knows who took the decision); it also joins demo
        # databases loaded before the ledger existed.
        if not has_demo_ledger(Project.objects.get(key="proj-101")):
            with transaction.atomic():
                load_demo_ledger(
                    actor=users["gov.staff"],
                    project=Project.objects.get(key="proj-101"),
                    caio=users["caio"],
                    reviewer_username="reviewer",
                )
            created = True
        if not Appeal.objects.filter(project__key="proj-101").exists():
            with transaction.atomic():
                demo_workflows.load(users)
        if not demo_evidence.has_evidence():
            with transaction.atomic():
                demo_evidence.load_evidence(users)
            created = True
        with transaction.atomic():  # issue 4's data joins demo databases loaded before it existed
            created = load_incidents_and_reassessments(users) or created
        integrate_pending()  # PostgreSQL queues appends: integrate and checkpoint every demo entry now
        logins = [
            {
                "username": u,
                "password": DEMO_PASSWORD,
                "role": (r.label if r else ("superuser" if u == "admin" else "governance staff of proj-202 only")),
                "admin": staff,
            }
            for u, _, r, staff in DEMO_USERS
        ]
        if opts["json"]:
            self.stdout.write(json.dumps({"created": created, "logins": logins}, indent=2))
            return
        self.stdout.write("Demo data " + ("loaded." if created else "already present; nothing changed."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            where = "admin + portal" if login["admin"] else "portal"
            self.stdout.write(f"  {login['username']:<13} {login['role']:<40} {where}")

    def ensure_users(self) -> dict:
        User = get_user_model()
        users = {}
        add_project = Permission.objects.get(codename="add_project", content_type__app_label="accountability")
        for username, full_name, _role, staff in DEMO_USERS:
            first, _, last = full_name.rpartition(" ")
            user, made = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@agency.example.gov",
                    "is_staff": staff,
                    "is_superuser": username == "admin",
                },
            )
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if username == "gov.staff":
                user.user_permissions.add(add_project)
            users[username] = user
        return users

    def load_agency(self, users):
        staff, caio = users["gov.staff"], users["caio"]
        project = project_svc.project_create(
            actor=staff,
            key="proj-101",
            name="Benefits Administration AI portfolio",
            organization="U.S. Department of Benefits Administration (demo)",
            program="Benefits Modernization",
            is_federal_agency=True,
            is_cfo_act_agency=True,
            description="AI use cases of a (fictional) CFO Act agency: eligibility screening, a public chatbot and "
            "an AI coding assistant for the agency's developers.",
        )
        for username, _name, role, _staff in DEMO_USERS:
            if role and role not in (Role.GOVERNANCE_STAFF, Role.CAIO):
                project_svc.membership_grant(actor=staff, project=project, user=users[username], role=role)

        caio_svc.caio_designate(
            actor=staff,
            project=project,
            official=caio,
            official_name="Dr. Maya Chen",
            official_email="caio@agency.example.gov",
            official_title="Chief AI Officer and Deputy CIO",
            grade=CAIODesignation.Grade.SES,
            authority_scope="agency",
            effective_date=dt.date(2025, 5, 1),
            omb_notified_at=dt.date(2025, 5, 20),
            delegation_chain=[
                {
                    "delegate_name": "Luis Ortega",
                    "delegate_email": "l.ortega@agency.example.gov",
                    "scope": "program",
                    "scope_ref": "Benefits Modernization",
                    "start_date": "2025-06-01",
                    "powers": [
                        "inventory",
                        "high_impact_determination",
                        "oversight_plan_approval",
                        "appeal_escalation",
                    ],
                },
                {
                    "delegate_name": "Priya Natarajan",
                    "delegate_email": "p.natarajan@agency.example.gov",
                    "scope": "project",
                    "scope_ref": "Eligibility screener",
                    "start_date": "2025-07-01",
                    "powers": ["inventory", "appeal_escalation"],
                },
            ],
        )

        screener = uc_svc.use_case_create(
            actor=staff,
            project=project,
            name="Benefits eligibility pre-screener",
            stage="pilot",
            bureau="Office of Benefits Determination",
            topic_area="Government services (benefits)",
            purpose="Ranks incoming applications by likely eligibility so caseworkers review complete ones first.",
            benefits="Shorter waits for applicants; caseworkers spend time on hard cases.",
            outputs="An eligibility likelihood score and the rules that fired; never a final decision.",
            development_method="vendor",
            vendor_name="Acme Decision Systems",
            contact_name="Grace Okafor",
            contact_email="gov.staff@agency.example.gov",
            responsible_official=staff,
            responsible_official_name="Grace Okafor",
            operational_date=dt.date(2025, 9, 15),
            ato_system_name="BENEFITS-CORE (ATO 2024-117)",
            data_description="Application forms and wage records.",
            involves_pii=True,
            pia_url="https://agency.example.gov/privacy/pia/benefits-core",
            demographic_features="Age and household size are inputs; protected classes are excluded.",
            has_custom_code=False,
            high_impact_determination="high",
            high_impact_bases=["access", "government_services"],
            presumed_categories=["m"],
            minimum_practices={
                "testing": "implemented",
                "impact_assessment": "implemented",
                "potential_impacts": "implemented",
                "independent_review": "in_progress",
                "monitoring": "implemented",
                "operator_training": "implemented",
                "fail_safe": "implemented",
                "appeal_process": "implemented",
                "public_consultation": "in_progress",
            },
        )
        chatbot = uc_svc.use_case_create(
            actor=staff,
            project=project,
            name="Citizen services chatbot",
            stage="pilot",
            bureau="Office of Public Engagement",
            topic_area="Customer experience",
            purpose="Answers questions about programmes and application status on the public website.",
            benefits="Around-the-clock answers; fewer calls to the contact centre.",
            outputs="Generated answers with links to the source pages.",
            is_generative=True,
            is_llm_procured=True,
            development_method="vendor",
            vendor_name="Northwind LLM Services",
            contact_name="Grace Okafor",
            contact_email="gov.staff@agency.example.gov",
            operational_date=dt.date(2025, 11, 1),
            ato_system_name="PUBLIC-WEB (ATO 2023-044)",
            data_description="Public programme pages; chat transcripts.",
            involves_pii=True,
            pia_url="https://agency.example.gov/privacy/pia/chatbot",
            demographic_features="None collected.",
            has_custom_code=True,
            code_url="https://code.agency.example.gov/chatbot",
            high_impact_determination="not_high",
        )
        assistant = uc_svc.use_case_create(
            actor=staff,
            project=project,
            name="AI coding assistant for agency developers",
            stage="pilot",
            bureau="Office of the CIO",
            topic_area="Mission-enabling (software engineering)",
            purpose="Suggests code and tests to agency developers inside their editors and runs agent sessions.",
            benefits="Faster delivery of internal tools.",
            outputs="Code suggestions and pull requests for review.",
            is_generative=True,
            is_agentic=True,
            development_method="both",
            vendor_name="Contoso Code AI",
            contact_email="cio-office@agency.example.gov",
            operational_date=dt.date(2026, 1, 12),
            ato_system_name="DEV-PLATFORM (ATO 2025-009)",
            data_description="Agency source code repositories.",
            involves_pii=False,
            demographic_features="Not applicable.",
            has_custom_code=True,
            code_url="https://code.agency.example.gov/dev-platform",
            high_impact_determination="not_high",
        )
        uc_svc.use_case_create(
            actor=staff,
            project=project,
            name="Overpayment fraud triage",
            stage="pre_deployment",
            bureau="Office of Program Integrity",
            topic_area="Program integrity",
            purpose="Flags payment patterns for investigators to review.",
            high_impact_determination="presumed_high_determined_not",
            presumed_categories=["m"],
            high_impact_justification="Flags only queue cases for a human investigator; no payment is stopped or "
            "penalty imposed on the basis of the flag. Sent to the CAIO on 2026-02-03.",
        )

        # Oversight plan of the screener: v1 approved, v2 approved (v1 archived), v3 drafted.
        v1 = plan_svc.oversight_plan_create(
            actor=staff,
            project=project,
            use_case=screener,
            template="standard_hitl",
            name="Eligibility pre-screener oversight",
        )
        plan = v1.plan
        plan_svc.oversight_plan_approve(actor=caio, plan=plan)
        plan_svc.oversight_plan_new_version(
            actor=staff,
            plan=plan,
            change_summary="Adverse scores now need a second reviewer.",
            hitl_checkpoints=[
                {
                    "decision": "Adverse determination affecting an individual",
                    "approval_required": True,
                    "approver_roles": ["Human reviewer", "Second reviewer"],
                },
                {
                    "decision": "Change of model version or thresholds",
                    "approval_required": True,
                    "approver_roles": ["Program manager", "Chief AI Officer"],
                },
            ],
        )
        plan_svc.oversight_plan_approve(actor=caio, plan=plan)
        plan_svc.oversight_plan_new_version(
            actor=staff,
            plan=plan,
            change_summary="Tighten the escalation window for suspected rights impacts.",
            escalation_path=[
                {
                    "level": 1,
                    "role": "Human reviewer",
                    "trigger": "Reviewer disagrees with the AI output",
                    "within_hours": 24,
                },
                {"level": 2, "role": "Program manager", "trigger": "Pattern of disagreements", "within_hours": 48},
                {
                    "level": 3,
                    "role": "Chief AI Officer",
                    "trigger": "Suspected rights or safety impact",
                    "within_hours": 72,
                },
            ],
        )
        # A high-impact use case needs an approving ethics review before deployment: two rounds, the first
        # sends the submission back for a disparity analysis.
        demo_workflows.review_screener(users, screener)
        # The impact assessment is completed before deployment (M-25-21 §4(b)(ii)).
        demo_evidence.screener_impact_assessment(users, screener)
        uc_svc.use_case_change_stage(
            actor=staff,
            use_case=screener,
            stage="deployed",
            reason="Pilot evaluation met its accuracy and equity targets.",
        )

        chatbot_plan = plan_svc.oversight_plan_create(
            actor=staff, project=project, use_case=chatbot, template="standard_hitl", name="Chatbot answer oversight"
        )
        plan_svc.oversight_plan_approve(actor=caio, plan=chatbot_plan.plan)
        uc_svc.use_case_change_stage(actor=staff, use_case=chatbot, stage="deployed", reason="Launch after pilot.")
        assistant_plan = plan_svc.oversight_plan_create(
            actor=staff, project=project, use_case=assistant, template="agentic_workflow"
        )
        plan_svc.oversight_plan_approve(actor=caio, plan=assistant_plan.plan)

        # Shared accountability.
        vendor = sh_svc.stakeholder_add(
            actor=staff,
            use_case=screener,
            name="Acme Decision Systems",
            role="ai_tool_provider",
            responsibility_share=40,
            organization="Acme Decision Systems Inc.",
            contact_name="R. Alvarez",
            contact_email="support@acme.example.com",
            responsibilities="Model quality, retraining and defect fixes.",
        )
        integrator = sh_svc.stakeholder_add(
            actor=staff,
            use_case=screener,
            name="Integrity Systems Integrators",
            role="system_integrator",
            responsibility_share=35,
            organization="ISI LLC",
            contact_email="pm@isi.example.com",
            responsibilities="Integration with BENEFITS-CORE, testing and deployment.",
        )
        sh_svc.stakeholder_add(
            actor=staff,
            use_case=screener,
            name="Benefits Modernization Office",
            role="deployer",
            responsibility_share=25,
            organization="Department of Benefits Administration",
            contact_email="gov.staff@agency.example.gov",
            responsibilities="Human review, appeals and monitoring.",
        )
        sh_svc.obligation_add(
            actor=staff,
            stakeholder=vendor,
            description="Respond to severity-1 model defects.",
            sla_metric="defect_response_hours",
            sla_target=48,
            contract_reference="Contract 47QTCA-25-D-0042 §H.7",
        )
        sh_svc.obligation_add(
            actor=staff,
            stakeholder=vendor,
            description="Notify the agency of AI incidents.",
            sla_metric="incident_notification_hours",
            sla_target=24,
            contract_reference="Contract 47QTCA-25-D-0042 §H.9",
        )
        sh_svc.obligation_add(
            actor=staff,
            stakeholder=integrator,
            description="Remediate integration defects.",
            sla_metric="remediation_days",
            sla_target=10,
            contract_reference="Task order 0003",
        )
        for name, role, share in [
            ("Contoso Code AI", "ai_tool_provider", 30),
            ("Agency software engineering teams", "end_user_developer", 50),
            ("Office of the CIO", "deployer", 20),
        ]:
            sh_svc.stakeholder_add(actor=staff, use_case=assistant, name=name, role=role, responsibility_share=share)

    def load_second_project(self, users):
        outsider = users["outsider"]
        project = project_svc.project_create(
            actor=SEEDER,
            key="proj-202",
            name="Transit safety analytics",
            organization="Metro Transit Authority (demo)",
            description="A second tenant: its users see nothing of proj-101 and vice versa.",
        )
        project_svc.membership_grant(actor=SEEDER, project=project, user=outsider, role=Role.GOVERNANCE_STAFF)
        uc_svc.use_case_create(
            actor=outsider,
            project=project,
            name="Track defect detection from video",
            stage="pre_deployment",
            purpose="Finds rail defects in inspection video.",
            high_impact_determination="high",
            high_impact_bases=["critical_infrastructure"],
            presumed_categories=["a"],
        )
