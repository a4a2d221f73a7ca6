"""accountability_manager: oversight plans, CAIO designations, appeals and ethics reviews from the command
line (seed 003 §9)."""

from __future__ import annotations

from django.core.management.base import CommandError

from accountability.api import serializers as s
from accountability.models import CAIODesignation
from accountability.selectors import registry as sel
from accountability.services import caio as caio_svc
from accountability.services import oversight as plan_svc

from . import _appeals
from ._base import ServiceCommand, parse_date


class Command(_appeals.AppealCommands, ServiceCommand):
    help = (
        "Manage oversight plans, CAIO designations, appeals and ethics reviews. Examples:\n"
        "  accountability_manager --project-id proj-101 --create-plan --use-case-id UC-00001 --template standard_hitl\n"
        "  accountability_manager --project-id proj-101 --list-plans --json\n"
        "  accountability_manager --plan-id OSP-00001 --json   (add --approve to approve its draft)\n"
        "  accountability_manager --project-id proj-101 --designate-caio --official-name 'Jane Smith' "
        "--official-email jane@agency.gov --scope agency\n"
        "  accountability_manager --project-id proj-101 --caio-status --json\n" + _appeals.HELP
    )
    actions = [
        "create_plan",
        "list_plans",
        "plan_id",
        "designate_caio",
        "caio_status",
        "revoke_caio",
        *_appeals.ACTIONS,
    ]

    def add_action_arguments(self, parser):
        parser.add_argument("--project-id", help="Project key, e.g. proj-101.")
        actions = parser.add_argument_group("actions (choose one)")
        actions.add_argument("--create-plan", action="store_true", help="Create an oversight plan (version 1, draft).")
        actions.add_argument("--list-plans", action="store_true", help="List the project's oversight plans.")
        actions.add_argument("--plan-id", help="Show a plan with its versions (OSP-00001).")
        actions.add_argument("--designate-caio", action="store_true", help="Designate the project's CAIO.")
        actions.add_argument("--caio-status", action="store_true", help="Show the project's CAIO status.")
        actions.add_argument("--revoke-caio", metavar="CAIO_ID", help="Revoke a designation (needs --reason).")
        plan = parser.add_argument_group("plan options")
        plan.add_argument("--use-case-id", help="Use case the plan covers (UC-00001); project-wide when omitted.")
        plan.add_argument("--template", default="", help="Policy template, e.g. standard_hitl or agentic_workflow.")
        plan.add_argument("--name", default="", help="Plan name (defaults to the template's title).")
        plan.add_argument("--approve", action="store_true", help="With --plan-id: approve the plan's draft.")
        caio = parser.add_argument_group("CAIO options")
        caio.add_argument("--official-name")
        caio.add_argument("--official-email")
        caio.add_argument("--official-user", help="Username of the official, when they have an account.")
        caio.add_argument("--official-title", default="")
        caio.add_argument("--grade", default="", choices=["", *CAIODesignation.Grade.values])
        caio.add_argument("--scope", choices=CAIODesignation.Scope.values, help="Authority scope.")
        caio.add_argument("--effective-date", help="YYYY-MM-DD (default today).")
        caio.add_argument("--expiry-date", help="YYYY-MM-DD.")
        caio.add_argument("--replace", action="store_true", help="Revoke an overlapping designation.")
        caio.add_argument("--reason", default="", help="Reason (revocation, replacement, appeal, escalation).")
        _appeals.add_arguments(parser)

    # --- helpers ---------------------------------------------------------------------------------
    def project(self, actor, opts):
        if not opts.get("project_id"):
            raise CommandError("--project-id is required for this action.")
        return sel.project_get(actor, opts["project_id"])

    # --- actions ---------------------------------------------------------------------------------
    def do_create_plan(self, actor, opts):
        project = self.project(actor, opts)
        use_case = sel.use_case_get(actor, opts["use_case_id"], project) if opts.get("use_case_id") else None
        content = {"name": opts["name"]} if opts["name"] else {}
        version = plan_svc.oversight_plan_create(
            actor=actor, project=project, use_case=use_case, template=opts["template"], **content
        )
        return s.PlanVersionSerializer(version).data

    def do_list_plans(self, actor, opts):
        plans = sel.oversight_plan_list(actor, self.project(actor, opts)).order_by("id")
        data = s.OversightPlanSerializer(plans, many=True).data
        rows = [
            [
                p["id"],
                p["use_case"] or "project-wide",
                p["active_version"] or "-",
                p["active_name"] or "",
                p["latest_version"],
                "yes" if p["has_draft"] else "",
            ]
            for p in data
        ]
        return data, self.table(
            f"Oversight plans of {opts['project_id']}", ["Plan", "Use case", "Active", "Name", "Latest", "Draft"], rows
        )

    def do_plan_id(self, actor, opts):
        plan = sel.oversight_plan_get(actor, opts["plan_id"])
        if opts.get("project_id") and plan.project.key != opts["project_id"]:
            raise CommandError(f"{plan.public_id} does not belong to {opts['project_id']}.")
        if opts["approve"]:
            plan_svc.oversight_plan_approve(actor=actor, plan=plan)
        return s.OversightPlanDetailSerializer(sel.oversight_plan_get(actor, plan.public_id)).data

    def do_designate_caio(self, actor, opts):
        project = self.project(actor, opts)
        missing = [f"--{n.replace('_', '-')}" for n in ("official_name", "official_email", "scope") if not opts.get(n)]
        if missing:
            raise CommandError(f"--designate-caio needs {', '.join(missing)}.")
        official = self.resolve_actor(opts["official_user"]) if opts.get("official_user") else None
        designation = caio_svc.caio_designate(
            actor=actor,
            project=project,
            official_name=opts["official_name"],
            official_email=opts["official_email"],
            authority_scope=opts["scope"],
            official=official,
            official_title=opts["official_title"],
            grade=opts["grade"],
            effective_date=parse_date(opts.get("effective_date"), "effective_date"),
            expiry_date=parse_date(opts.get("expiry_date"), "expiry_date"),
            replace=opts["replace"],
            reason=opts["reason"],
        )
        return s.CAIOSerializer(designation).data

    def do_caio_status(self, actor, opts):
        info = sel.caio_status(actor, self.project(actor, opts))
        info["active"] = s.CAIOSerializer(info["active"]).data if info["active"] else None
        info["designations"] = s.CAIOSerializer(info["designations"], many=True).data
        return info

    def do_revoke_caio(self, actor, opts):
        designation = sel.caio_get(actor, opts["revoke_caio"])
        return s.CAIOSerializer(caio_svc.caio_revoke(actor=actor, designation=designation, reason=opts["reason"])).data
