"""The generic rule types a catalogue combines: exists, match, freshness, sla, ratio, completeness,
deadline, all_of and any_of. Each reads only aggregates grouped by subject (see ``assessors.batch``).

Validity lives in the filters: a check that asks for a valid, current or approved record filters on
the status and dates that make it so (an expired CAIO, a draft plan or a stale run never matches).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, IntegerField, Max, Min, Q, Value, When
from django.utils import timezone

from accountability.rules.calendar import business_calendar

from ..modelspec import resolve_model
from .base import FAIL, NA, NOT_JUDGED, OK, PARTIAL, Outcome, best, rule_type, worst


def _label(rule: dict, model) -> str:
    return rule.get("label") or str(model._meta.verbose_name_plural)


def _related(rule: dict, rc, path: str):
    model = resolve_model(rule["model"])
    return model, rc.flat_q(model, rule, path)


def _as_date(value) -> dt.date:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


@rule_type("exists", params=("min_count",))
class Exists:
    """At least ``min_count`` (default 1) related rows match the filter."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        model, q = _related(rule, rc, path)
        rc.handles[path] = rc.batch.aggregate(model, rule["link"], Count("pk", filter=q))
        subjects.need_via(rule.get("via"))

    @staticmethod
    def judge(rule, rc, subjects, path):
        model = resolve_model(rule["model"])
        minimum = rc.param(rule, "min_count", path, default=1)
        label, missing = _label(rule, model), rule.get("missing", FAIL)
        ok, bad = Outcome(OK, label), Outcome(missing, f"no {label}")  # shared: thousands of subjects
        handle, via, get = rc.handles[path], rule.get("via"), rc.batch.get
        return {row["pk"]: ok if get(handle, subjects.key(row, via), 0) >= minimum else bad for row in subjects.rows}


@rule_type("match")
class Match:
    """The subject row itself matches the filter."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        rc.handles[path] = subjects.flag(rc.q(subjects.model, rule, path))

    @staticmethod
    def judge(rule, rc, subjects, path):
        label, missing = rule.get("label", "the condition"), rule.get("missing", FAIL)
        flag = rc.handles[path]
        ok, bad = Outcome(OK, label), Outcome(missing, f"not met: {label}")
        return {row["pk"]: ok if row[flag] else bad for row in subjects.rows}


@rule_type("freshness", params=("max_age_days",))
class Freshness:
    """The latest matching related row is at most ``max_age_days`` old (stale: partial unless told)."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        model, q = _related(rule, rc, path)
        rc.handles[path] = rc.batch.aggregate(model, rule["link"], Max(rule["date_field"], filter=q))
        subjects.need_via(rule.get("via"))

    @staticmethod
    def judge(rule, rc, subjects, path):
        model = resolve_model(rule["model"])
        label = _label(rule, model)
        max_age = rc.param(rule, "max_age_days", path)
        stale, missing = rule.get("stale", PARTIAL), rule.get("missing", FAIL)
        out = {}
        for row in subjects.rows:
            latest = rc.batch.get(rc.handles[path], subjects.key(row, rule.get("via")))
            if latest is None:
                out[row["pk"]] = Outcome(missing, f"no {label}")
                continue
            latest = _as_date(latest)
            age = (rc.today - latest).days
            if age <= max_age:
                out[row["pk"]] = Outcome(OK, f"{label}: latest on {latest.isoformat()}")
            else:
                out[row["pk"]] = Outcome(
                    stale, f"stale {label}: latest on {latest.isoformat()}, {age} days ago (at most {max_age})"
                )
        return out


def _age(rc, oldest, unit: str) -> float:
    if unit == "hours":
        return (rc.now - _as_datetime(oldest)).total_seconds() / 3600
    if unit == "business_days":
        start = _as_datetime(oldest)
        if start >= rc.now:
            return -1
        return business_calendar().business_days_between(start, rc.now)
    return (rc.today - _as_date(oldest)).days


@rule_type("sla", params=("max_age", "tolerance"))
class Sla:
    """Matching related rows (e.g. pending, past a stored due date) are at most ``max_age`` old; up to
    ``tolerance`` more is partial; beyond it, ``breach`` (fail unless told)."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        model, q = _related(rule, rc, path)
        rc.handles[path] = (
            rc.batch.aggregate(model, rule["link"], Min(rule["age_from"], filter=q)),
            rc.batch.aggregate(model, rule["link"], Count("pk", filter=q)),
            q,
        )
        subjects.need_via(rule.get("via"))

    @staticmethod
    def judge(rule, rc, subjects, path):
        model = resolve_model(rule["model"])
        label, unit = _label(rule, model), rule.get("unit", "days")
        max_age = rc.param(rule, "max_age", path)
        tolerance = rc.param(rule, "tolerance", path)
        breach = rule.get("breach", FAIL)
        oldest_h, count_h, q = rc.handles[path]
        out, late = {}, {}
        for row in subjects.rows:
            key = subjects.key(row, rule.get("via"))
            oldest = rc.batch.get(oldest_h, key)
            if oldest is None:
                out[row["pk"]] = Outcome(OK, f"no {label}")
                continue
            age = _age(rc, oldest, unit)
            n = rc.batch.get(count_h, key, 0)
            if age <= max_age:
                out[row["pk"]] = Outcome(OK, f"{n} {label}, none beyond {max_age} {unit}")
                continue
            status = PARTIAL if tolerance is not None and age <= max_age + tolerance else breach
            shown = f"{age:.0f}" if unit == "hours" else f"{age}"
            reason = f"{n} {label}; the oldest is {shown} {unit} past (at most {max_age}"
            reason += f", {tolerance} more tolerated)" if tolerance is not None else ")"
            out[row["pk"]] = Outcome(status, reason)
            late[key] = row["pk"]
        if late:
            found = rc.sample(model, rule["link"], q, [rule["age_from"], "pk"], set(late), path)
            for key, pk in late.items():
                o = out[pk]
                out[pk] = Outcome(o.status, o.reason, tuple((model._meta.label, p) for p in found.get(key, [])))
        return out


@rule_type("ratio", params=("pass_ratio", "partial_ratio"))
class Ratio:
    """The share of related rows that are ``good`` among those matching the filter."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        model, q = _related(rule, rc, path)
        good = rc.flat_q(model, rule, path, key="good")
        rc.handles[path] = (
            rc.batch.aggregate(model, rule["link"], Count("pk", filter=q)),
            rc.batch.aggregate(model, rule["link"], Count("pk", filter=q & good)),
            q & ~good,
        )
        subjects.need_via(rule.get("via"))

    @staticmethod
    def judge(rule, rc, subjects, path):
        model = resolve_model(rule["model"])
        label = _label(rule, model)
        pass_ratio = rc.param(rule, "pass_ratio", path)
        partial_ratio = rc.param(rule, "partial_ratio", path)
        empty = {"ok": OK}.get(rule.get("empty"), rule.get("empty", FAIL))
        total_h, good_h, bad = rc.handles[path]
        out, weak = {}, {}
        for row in subjects.rows:
            key = subjects.key(row, rule.get("via"))
            total, good = rc.batch.get(total_h, key, 0), rc.batch.get(good_h, key, 0)
            if not total:
                out[row["pk"]] = Outcome(empty if empty != "not_applicable" else NA, f"no {label}")
                continue
            ratio = good / total
            reason = f"{good} of {total} {label} ({100 * ratio:.1f} %)"
            if ratio >= pass_ratio:
                out[row["pk"]] = Outcome(OK, reason)
                continue
            ok_partial = partial_ratio is not None and ratio >= partial_ratio
            out[row["pk"]] = Outcome(PARTIAL if ok_partial else FAIL, reason)
            weak[key] = row["pk"]
        if weak:
            found = rc.sample(model, rule["link"], bad, ["pk"], set(weak), path)
            for key, pk in weak.items():
                o = out[pk]
                out[pk] = Outcome(o.status, o.reason, tuple((model._meta.label, p) for p in found.get(key, [])))
        return out


def _entries(fields: list) -> list[tuple[str, list[str], dict | None]]:
    """(label, field names any of which fills the entry, when-filter) per completeness entry."""
    out = []
    for entry in fields:
        if isinstance(entry, str):
            out.append((entry, [entry], None))
        elif "any" in entry:
            out.append((" or ".join(entry["any"]), list(entry["any"]), None))
        else:
            out.append((entry["field"], [entry["field"]], entry.get("when")))
    return out


def _flat_entry(model, rc, rule, path, names, when) -> Q:
    entry = {"any": names} if len(names) > 1 else {"field": names[0], **({"when": when} if when else {})}
    return rc.flat_q(model, {**rule, "filter": {"$complete": [entry]}}, path)


@rule_type("completeness", params=("partial_ratio",))
class Completeness:
    """Required fields are filled in: on the subject itself, or on its related row (``model`` + ``link``)."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        entries = _entries(rule["fields"])
        if "model" not in rule:
            model = subjects.model
            rc.handles[path] = [
                subjects.flag(_flat_entry(model, rc, rule, path, names, when)) for _l, names, when in entries
            ]
            return
        model, q = _related(rule, rc, path)
        one = Value(1)
        rc.handles[path] = (
            rc.batch.aggregate(model, rule["link"], Count("pk", filter=q)),
            [
                rc.batch.aggregate(
                    model,
                    rule["link"],
                    Max(
                        Case(
                            When(q & _flat_entry(model, rc, rule, path, names, when), then=one),
                            default=Value(0),
                            output_field=IntegerField(),
                        )
                    ),
                )
                for _l, names, when in entries
            ],
        )
        subjects.need_via(rule.get("via"))

    @staticmethod
    def judge(rule, rc, subjects, path):
        entries = _entries(rule["fields"])
        partial_ratio = rc.param(rule, "partial_ratio", path)
        related = "model" in rule
        label = _label(rule, resolve_model(rule["model"])) if related else rule.get("label", "record")
        out = {}
        for row in subjects.rows:
            if related:
                key = subjects.key(row, rule.get("via"))
                count_h, entry_hs = rc.handles[path]
                if not rc.batch.get(count_h, key, 0):
                    out[row["pk"]] = Outcome(rule.get("missing", FAIL), f"no {label}")
                    continue
                present = [bool(rc.batch.get(h, key, 0)) for h in entry_hs]
            else:
                present = [bool(row[flag]) for flag in rc.handles[path]]
            missing = [entries[i][0] for i, ok in enumerate(present) if not ok]
            if not missing:
                out[row["pk"]] = Outcome(OK, f"{label}: all {len(entries)} fields present")
                continue
            ratio = (len(entries) - len(missing)) / len(entries)
            status = PARTIAL if partial_ratio is not None and ratio >= partial_ratio else FAIL
            out[row["pk"]] = Outcome(status, f"{label} lacks {', '.join(missing)}")
        return out


@rule_type("deadline", params=("due",))
class Deadline:
    """Before the framework's due date a fail counts as partial."""

    @staticmethod
    def plan(rule, rc, subjects, path):
        from ..engine import plan_rule

        plan_rule(rule["rule"], rc, subjects, f"{path}.rule")

    @staticmethod
    def judge(rule, rc, subjects, path):
        from ..engine import judge_rule

        inner = judge_rule(rule["rule"], rc, subjects, f"{path}.rule")
        due = rc.date_param(rule, "due", path)
        if rc.today >= due:
            return inner
        note = f" (due {due.isoformat()}: partial until then)"
        return {pk: Outcome(PARTIAL, o.reason + note, o.objects) if o.status == FAIL else o for pk, o in inner.items()}


def _children(rule, rc, subjects, path):
    from ..engine import judge_rule

    return [judge_rule(sub, rc, subjects, f"{path}.rules[{i}]") for i, sub in enumerate(rule["rules"])]


def _plan_children(rule, rc, subjects, path):
    from ..engine import plan_rule

    for i, sub in enumerate(rule["rules"]):
        plan_rule(sub, rc, subjects, f"{path}.rules[{i}]")


@rule_type("all_of")
class AllOf:
    """Every sub-rule holds (the subject gets the worst outcome)."""

    plan = staticmethod(_plan_children)

    @staticmethod
    def judge(rule, rc, subjects, path):
        parts = _children(rule, rc, subjects, path)
        return {row["pk"]: worst([p.get(row["pk"], NOT_JUDGED) for p in parts]) for row in subjects.rows}


@rule_type("any_of")
class AnyOf:
    """One sub-rule holds (the subject gets the best outcome; ``at_most: partial`` caps a fallback)."""

    plan = staticmethod(_plan_children)

    @staticmethod
    def judge(rule, rc, subjects, path):
        parts = _children(rule, rc, subjects, path)
        return {row["pk"]: best([p.get(row["pk"], NOT_JUDGED) for p in parts]) for row in subjects.rows}
