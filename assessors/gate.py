"""The AI accountability security gate (seed 003 §8, re-grounded in frameworks.md §6.7).

Blocking: no active CAIO for a federal project (M2521-GOV-01), a high-impact use case without an active
oversight plan (M2521-OVS-01), a critical incident open longer than its SLA, an appeal without a reviewer
for more than N business days, and the checks listed in ``gate.blocking_checks``. Warning: reassessments
overdue by more than N days, new use cases without a completed ethics review, no documented incident
response procedure (AI6001-INC-02), and fewer than N % of the checks passing.

Every threshold comes from the ``gate`` section of the policy file and is portal policy, not framework
text. Conditions that are not checks run one query each for all audited projects.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accountability.config import policy
from accountability.models import AIUseCase, Appeal, EthicsReview, Incident, ReassessmentSchedule
from accountability.models.incidents import OPEN_STATUSES
from accountability.rules.calendar import business_calendar

from .batch import restrict
from .checks.base import FAIL

CAIO_CHECK, OVERSIGHT_CHECK, IR_PLAN_CHECK = "M2521-GOV-01", "M2521-OVS-01", "AI6001-INC-02"
POLICY = "portal policy (ai_accountability_config.yaml, gate)"


@dataclass
class Condition:
    """One gate condition for one project: whether it triggered, and the evidence."""

    id: str
    kind: str  # blocking | warning
    title: str
    citation: str
    threshold: dict
    triggered: bool = False
    applicable: bool = True
    detail: str = ""
    objects: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "citation": self.citation,
            "threshold": self.threshold,
            "applicable": self.applicable,
            "triggered": self.triggered,
            "detail": self.detail,
            "objects": self.objects[:25],
            "objects_total": len(self.objects),
        }


@dataclass
class GateDecision:
    """The gate for one project: blocked when any blocking condition triggered."""

    conditions: list[Condition]

    @property
    def blocking(self) -> list[Condition]:
        return [c for c in self.conditions if c.kind == "blocking" and c.triggered]

    @property
    def warnings(self) -> list[Condition]:
        return [c for c in self.conditions if c.kind == "warning" and c.triggered]

    @property
    def status(self) -> str:
        if self.blocking:
            return "blocked"
        return "warnings" if self.warnings else "passed"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "blocking": [c.as_dict() for c in self.blocking],
            "warnings": [c.as_dict() for c in self.warnings],
            "conditions": [c.as_dict() for c in self.conditions],
            "thresholds_source": POLICY,
        }

    def stored_dict(self) -> dict:
        """What a stored run keeps: triggered conditions in full, every condition as one line."""
        return {
            "status": self.status,
            "blocking": [c.as_dict() for c in self.blocking],
            "warnings": [c.as_dict() for c in self.warnings],
            "conditions": [
                {"id": c.id, "kind": c.kind, "applicable": c.applicable, "triggered": c.triggered, "detail": c.detail}
                for c in self.conditions
            ],
            "thresholds_source": POLICY,
        }


def gate_policy() -> dict:
    return policy()["gate"]


def _threshold(name: str, value, unit: str = "") -> dict:
    return {"name": name, "value": value, "unit": unit, "provenance": "D", "source": POLICY}


def _obj(model_label: str, pk: int, public_id: str, **extra) -> dict:
    from .engine import admin_url

    return {"id": public_id, "model": model_label, "pk": pk, "admin_url": admin_url(model_label, pk), **extra}


def _listing(cond_id: str, kind: str, title: str, citation: str, threshold: dict, found: list, detail: str):
    """A condition that triggers when its set-based query found objects of the project ("N <detail>")."""
    return Condition(
        cond_id, kind, title, citation, threshold, triggered=bool(found), detail=f"{len(found)} {detail}", objects=found
    )


def _from_result(cond: Condition, result, only_failing_subjects: bool = False) -> Condition:
    if result is None or result.status == "not_applicable":
        cond.applicable = result is not None
        cond.detail = result.summary if result is not None else "check not evaluated"
        return cond
    failing = result.failing
    if only_failing_subjects:
        failing = [f for f in failing if f["status"] == FAIL]
        cond.triggered = bool(failing)
    else:
        cond.triggered = result.status == "fail"
    cond.detail = result.summary
    cond.objects = [dict(f) for f in failing] if cond.triggered else []
    return cond


def evaluate_gates(engine, results_by_project: dict[int, list]) -> dict[int, GateDecision]:
    """The gate of every audited project, from the check results and four set-based queries."""
    cfg = gate_policy()
    catalogue = engine.catalogue
    today = engine.today
    incidents = _critical_incidents(engine, cfg["critical_incident_sla_hours"])
    appeals = _unassigned_appeals(engine, cfg["appeal_assignment_sla_business_days"])
    overdue = _overdue_reassessments(engine, cfg["reassessment_overdue_warning_days"])
    unreviewed = _new_use_cases_without_ethics(engine, cfg["ethics_review_new_use_case_days"])
    extra_blocking = [catalogue.resolve(cid).id for cid in cfg["blocking_checks"]]
    decisions = {}
    for pid, results in results_by_project.items():
        info = engine.projects[pid]
        by_id = {r.check.id: r for r in results}
        conditions = []
        caio = Condition(
            "GATE-CAIO",
            "blocking",
            "No active CAIO designation for a federal project",
            "M-25-21 App. §3(a)(i) (M2521-GOV-01)",
            {"name": "caio_required_for_federal", "value": cfg["caio_required_for_federal"], "source": POLICY},
        )
        if cfg["caio_required_for_federal"] and info.is_federal_agency:
            _from_result(caio, by_id.get(CAIO_CHECK))
        else:
            caio.applicable, caio.detail = False, "not a federal project (or not required by the policy)"
        conditions.append(caio)
        oversight = Condition(
            "GATE-OVERSIGHT",
            "blocking",
            "High-impact use case without an active oversight plan",
            "M-25-21 App. §4(b)(v) (M2521-OVS-01)",
            {"name": "oversight_plan_required_for_high_impact", "value": True, "source": POLICY},
        )
        if cfg["oversight_plan_required_for_high_impact"]:
            _from_result(oversight, by_id.get(OVERSIGHT_CHECK), only_failing_subjects=True)
        else:
            oversight.applicable, oversight.detail = False, "not required by the policy"
        conditions.append(oversight)
        hours = cfg["critical_incident_sla_hours"]
        found = incidents.get(pid, [])
        conditions.append(
            _listing(
                "GATE-CRITICAL-INCIDENT",
                "blocking",
                f"Critical incident unresolved for more than {hours} hours",
                "Portal SLA; NIST AI 600-1 MG-4.3-001, AI RMF MANAGE 4.3",
                _threshold("critical_incident_sla_hours", hours, "hours"),
                found,
                f"open critical incident(s) reported more than {hours} h ago",
            )
        )
        days = cfg["appeal_assignment_sla_business_days"]
        found = appeals.get(pid, [])
        conditions.append(
            _listing(
                "GATE-APPEAL-ASSIGNMENT",
                "blocking",
                f"Appeal submitted without a reviewer for more than {days} business days",
                "Portal SLA for M-25-21 App. §4(b)(vi) 'timely human review'",
                _threshold("appeal_assignment_sla_business_days", days, "business days"),
                found,
                f"appeal(s) still without a reviewer after {days} business days",
            )
        )
        for check_id in extra_blocking:
            check = catalogue.checks[check_id]
            cond = Condition(
                f"GATE-CHECK-{check_id}",
                "blocking",
                f"{check.title} ({check_id} fails)",
                f"{catalogue.frameworks[check.framework].short_title} {check.citation['ref']}",
                {"name": "blocking_checks", "value": check_id, "source": POLICY},
            )
            conditions.append(_from_result(cond, by_id.get(check_id)))
        days = cfg["reassessment_overdue_warning_days"]
        found = overdue.get(pid, [])
        conditions.append(
            _listing(
                "GATE-REASSESSMENT",
                "warning",
                f"Reassessment overdue by more than {days} days",
                "M-25-21 App. §4(b)(ii)(D) (M2521-IA-02); threshold is portal policy",
                _threshold("reassessment_overdue_warning_days", days, "days"),
                found,
                f"active reassessment(s) due before {today - dt.timedelta(days=days)}",
            )
        )
        days = cfg["ethics_review_new_use_case_days"]
        found = unreviewed.get(pid, [])
        conditions.append(
            _listing(
                "GATE-ETHICS",
                "warning",
                "Ethics review not completed for a new use case",
                "Portal policy; nearest text: M-25-21 App. §4(b)(ii)(F) independent review",
                _threshold("ethics_review_new_use_case_days", days, "days"),
                found,
                f"use case(s) registered in the last {days} days without a completed review",
            )
        )
        conditions.append(
            _from_result(
                Condition(
                    "GATE-IR-PLAN",
                    "warning",
                    "No documented incident response procedure",
                    "NIST AI 600-1 MG-2.3-001 (AI6001-INC-02)",
                    {"name": "incident_response_plan", "value": IR_PLAN_CHECK, "source": POLICY},
                ),
                by_id.get(IR_PLAN_CHECK),
            )
        )
        conditions.append(_pass_ratio(results, cfg["min_check_pass_pct"]))
        decisions[pid] = GateDecision(conditions)
    return decisions


def _pass_ratio(results: list, minimum: float) -> Condition:
    applicable = [r for r in results if r.status != "not_applicable"]
    passed = sum(1 for r in applicable if r.status == "pass")
    pct = round(100 * passed / len(applicable), 1) if applicable else None
    return Condition(
        "GATE-PASS-RATIO",
        "warning",
        f"Fewer than {minimum:g} % of the applicable checks pass",
        "Portal policy",
        _threshold("min_check_pass_pct", minimum, "%"),
        triggered=pct is not None and pct < minimum,
        applicable=pct is not None,
        detail=f"{passed} of {len(applicable)} applicable checks pass ({pct} %)"
        if applicable
        else "no applicable check",
    )


def gate_queries(engine) -> list[tuple]:
    """The (key, build) queries ``evaluate_gates`` reads, so the engine can send them with its own."""
    cfg = gate_policy()
    return [
        _critical_incidents_query(),
        _unassigned_appeals_query(),
        _overdue_reassessments_query(engine, cfg["reassessment_overdue_warning_days"]),
        _new_use_cases_query(engine, cfg["ethics_review_new_use_case_days"]),
    ]


def _critical_incidents_query() -> tuple:
    # The age test runs in Python so the query has no clock in it and its compiled SQL is reused.
    return (
        ("gate", "critical_incidents"),
        lambda ids: (
            restrict(Incident.objects.all(), Incident, ids)
            .filter(severity=Incident.Severity.CRITICAL, status__in=OPEN_STATUSES)
            .order_by("reported_at")
            .values("pk", "project", "reported_at", "sla_due_at", "status")
        ),
    )


def _critical_incidents(engine, hours: int) -> dict[int, list[dict]]:
    cutoff = engine.now - dt.timedelta(hours=hours)
    rows = engine.rows(*_critical_incidents_query())
    found = defaultdict(list)
    for row in rows:
        if row["reported_at"] >= cutoff:
            continue
        found[row["project"]].append(
            _obj(
                "accountability.incident",
                row["pk"],
                f"INC-{row['pk']:05d}",
                status=row["status"],
                reported_at=row["reported_at"].isoformat(),
                sla_due_at=row["sla_due_at"].isoformat(),
                open_hours=round((engine.now - row["reported_at"]).total_seconds() / 3600, 1),
            )
        )
    return found


def _unassigned_appeals_query() -> tuple:
    # Appeals still waiting for a reviewer are few; the business calendar decides which waited too long.
    return (
        ("gate", "unassigned_appeals"),
        lambda ids: (
            restrict(Appeal.objects.all(), Appeal, ids)
            .filter(status=Appeal.Status.SUBMITTED, reviewer__isnull=True)
            .order_by("created_at")
            .values("pk", "project", "created_at", "assignment_due_at")
        ),
    )


def _unassigned_appeals(engine, days: int) -> dict[int, list[dict]]:
    rows = engine.rows(*_unassigned_appeals_query())
    calendar = business_calendar()
    found = defaultdict(list)
    for row in rows:
        submitted = row["created_at"]
        deadline = calendar.add_business_days(submitted, days)
        if deadline < engine.now:
            found[row["project"]].append(
                _obj(
                    "accountability.appeal",
                    row["pk"],
                    f"APL-{row['pk']:05d}",
                    submitted_at=submitted.isoformat(),
                    deadline=deadline.isoformat(),
                    stored_assignment_due_at=row["assignment_due_at"].isoformat(),
                    business_days_waiting=calendar.business_days_between(submitted, engine.now),
                )
            )
    return found


def _overdue_reassessments_query(engine, days: int) -> tuple:
    before = engine.today - dt.timedelta(days=days)
    return (
        ("gate", "overdue_reassessments", before),
        lambda ids: (
            restrict(ReassessmentSchedule.objects.all(), ReassessmentSchedule, ids)
            .filter(is_active=True, next_due__lt=before)
            .order_by("next_due")
            .values("pk", "project", "next_due", "assessment_type")
        ),
    )


def _overdue_reassessments(engine, days: int) -> dict[int, list[dict]]:
    rows = engine.rows(*_overdue_reassessments_query(engine, days))
    found = defaultdict(list)
    for row in rows:
        found[row["project"]].append(
            _obj(
                "accountability.reassessmentschedule",
                row["pk"],
                f"RAS-{row['pk']:05d}",
                assessment_type=row["assessment_type"],
                next_due=row["next_due"].isoformat(),
                days_overdue=(engine.today - row["next_due"]).days,
            )
        )
    return found


def _new_use_cases_query(engine, days: int) -> tuple:
    # "New" counts from the start of the day N days ago, so the query is the same all day long.
    since = timezone.make_aware(dt.datetime.combine(engine.today - dt.timedelta(days=days), dt.time.min))

    def build(ids):  # a queryset is built only when the compiled SQL is not cached yet
        completed = EthicsReview.objects.filter(status=EthicsReview.Status.COMPLETED, use_case=OuterRef("pk"))
        return (
            restrict(AIUseCase.objects.all(), AIUseCase, ids)
            .filter(~Q(stage=AIUseCase.Stage.RETIRED), created_at__gte=since)
            .exclude(Exists(completed))
            .order_by("created_at")
            .values("pk", "project", "name", "created_at")
        )

    return ("gate", "new_use_cases", since), build


def _new_use_cases_without_ethics(engine, days: int) -> dict[int, list[dict]]:
    rows = engine.rows(*_new_use_cases_query(engine, days))
    found = defaultdict(list)
    for row in rows:
        found[row["project"]].append(
            _obj(
                "accountability.aiusecase",
                row["pk"],
                f"UC-{row['pk']:05d}",
                name=row["name"],
                registered_at=row["created_at"].isoformat(),
            )
        )
    return found
