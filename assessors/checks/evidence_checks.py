"""Named evaluators over transparency evidence: waiver validity, the latest monitoring observation against
its targets, and monitoring cadence. Each runs one query for all audited projects."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from accountability.models import MonitoringObservation, MonitoringPlan, Waiver

from ..batch import restrict
from .base import FAIL, OK, PARTIAL, Outcome, evaluator

USE_CASE = ("accountability.AIUseCase",)


def _waivers(rc, rule) -> tuple:
    """The audited projects' waivers with their status today: (key, build) for ``engine.rows``."""
    return (
        ("ev", "waivers"),
        lambda ids: restrict(Waiver.objects.with_status(rc.today), Waiver, ids).values(
            "pk",
            "current_status",
            "omb_report_overdue",
            "determination",
            "risk_assessment",
            "public_summary_url",
            "issued_by",
            "caio_designation__official",
            "revoked_on",
        ),
    )


@evaluator(
    "waiver_validity",
    params=("recertification_days", "omb_report_days"),
    subjects=("accountability.Waiver",),
    queries=lambda rc, rule: [_waivers(rc, rule)],
)
def waiver_validity(rc, subjects, rule, path):
    """A waiver is valid when issued by the designated CAIO with a written determination and risk assessment,
    recertified in time, reported to OMB in time (grant and revocation) and publicly summarised."""
    # The due dates were stored from these policy values when each clock started; logged for the evidence.
    rc.param(rule, "recertification_days", path)
    rc.param(rule, "omb_report_days", path)
    rows = {r["pk"]: r for r in rc.engine.rows(*_waivers(rc, rule))}
    out = {}
    for row in subjects.rows:
        w = rows.get(row["pk"])
        if w is None:
            continue
        problems = []
        if w["current_status"] == Waiver.Status.RECERTIFICATION_OVERDUE:
            problems.append("annual recertification overdue")
        if w["omb_report_overdue"]:
            problems.append("revocation not reported to OMB in time" if w["revoked_on"] else "grant not reported")
        if not w["determination"].strip() or not w["risk_assessment"].strip():
            problems.append("no written determination or risk assessment")
        if not w["public_summary_url"] and w["current_status"] != Waiver.Status.REVOKED:
            problems.append("no public summary (§4(a)(iv))")
        official = w["caio_designation__official"]
        if official is not None and official != w["issued_by"]:
            problems.append("not issued by the designated CAIO")
        status = w["current_status"].replace("_", " ")
        out[row["pk"]] = Outcome(FAIL, "; ".join(problems)) if problems else Outcome(OK, f"valid ({status})")
    return out


def _latest_observations(rc, rule) -> tuple:
    """The latest observation per use case within ``max_age_days``: (key, build) for ``engine.rows``."""
    since = rc.today - dt.timedelta(days=rc.peek(rule, "max_age_days"))
    return (
        ("ev", "latest_observation", since),
        lambda ids: (
            restrict(MonitoringObservation.objects.filter(observed_on__gte=since), MonitoringObservation, ids)
            .annotate(
                _rank=Window(
                    RowNumber(), partition_by=[F("use_case")], order_by=[F("observed_on").desc(), F("pk").desc()]
                )
            )
            .filter(_rank=1)
            .values("use_case", "pk", "within_threshold", "breach_count", "observed_on")
        ),
    )


@evaluator(
    "latest_observation",
    params=("max_age_days",),
    subjects=USE_CASE,
    queries=lambda rc, rule: [_latest_observations(rc, rule)],
)
def latest_observation(rc, subjects, rule, path):
    """The latest monitoring observation (within ``max_age_days``) meets every metric target; a breach with
    its corrective action is partial; no recent observation fails."""
    max_age = rc.param(rule, "max_age_days", path)
    ranked = rc.engine.rows(*_latest_observations(rc, rule))
    latest = {r["use_case"]: (r["pk"], r["within_threshold"], r["breach_count"], r["observed_on"]) for r in ranked}
    out = {}
    for row in subjects.rows:
        found = latest.get(row["pk"])
        if found is None:
            out[row["pk"]] = Outcome(FAIL, f"no monitoring observation in the last {max_age} days")
            continue
        pk, within, breaches, on = found
        ref = (("accountability.MonitoringObservation", pk),)
        if within:
            out[row["pk"]] = Outcome(OK, f"every metric within target on {on.isoformat()}", ref)
        else:
            out[row["pk"]] = Outcome(PARTIAL, f"{breaches} metric(s) missed their target on {on.isoformat()}", ref)
    return out


def _active_plans(rc, rule) -> tuple:
    """The active monitoring plans of the audited projects: (key, build) for ``engine.rows``."""
    return (
        ("ev", "monitoring_cadence"),
        lambda ids: restrict(MonitoringPlan.objects.filter(status="active"), MonitoringPlan, ids).values(
            "use_case", "pk", "next_observation_due", "frequency_days"
        ),
    )


@evaluator(
    "monitoring_cadence",
    params=("missed_cycles_partial",),
    subjects=USE_CASE,
    queries=lambda rc, rule: [_active_plans(rc, rule)],
)
def monitoring_cadence(rc, subjects, rule, path):
    """An active monitoring plan whose next observation is not overdue; up to ``missed_cycles_partial`` missed
    cycles is partial; more, or no plan, fails."""
    tolerated = rc.param(rule, "missed_cycles_partial", path)
    plans = rc.engine.rows(*_active_plans(rc, rule))
    found = {r["use_case"]: (r["pk"], r["next_observation_due"], r["frequency_days"]) for r in plans}
    out = {}
    for row in subjects.rows:
        plan = found.get(row["pk"])
        if plan is None:
            out[row["pk"]] = Outcome(FAIL, "no active monitoring plan")
            continue
        pk, due, freq = plan
        ref = (("accountability.MonitoringPlan", pk),)
        overdue = (rc.today - due).days
        if overdue <= 0:
            out[row["pk"]] = Outcome(OK, f"next observation due {due.isoformat()} (every {freq} days)", ref)
        elif overdue <= tolerated * freq:
            out[row["pk"]] = Outcome(PARTIAL, f"observation overdue by {overdue} days (every {freq} days)", ref)
        else:
            cycles = overdue // freq + 1
            out[row["pk"]] = Outcome(FAIL, f"observation overdue by {overdue} days: {cycles} cycles missed", ref)
    return out
