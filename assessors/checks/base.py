"""What rules produce (an outcome per subject) and the registries of rule types and named evaluators.

A rule is evaluated in two phases so that every check costs a bounded number of queries whatever the
number of rows: ``plan`` registers the aggregates it needs with the engine's batch (one grouped query per
model and link, shared by every check that reads that model), and ``judge`` turns the fetched aggregates
into one ``Outcome`` per subject. Named Python evaluators follow the same shape and must be set-based too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

OK, PARTIAL, FAIL, NA = "ok", "partial", "fail", "not_applicable"
RANK = {FAIL: 0, PARTIAL: 1, OK: 2}


class Outcome(NamedTuple):
    """The verdict on one subject, why, and the related rows behind it as (model label, pk)."""

    status: str
    reason: str = ""
    objects: tuple[tuple[str, int], ...] = ()


NOT_JUDGED = Outcome(NA)  # what a subject a rule said nothing about gets (shared: no tuple per row)


def worst(outcomes: list[Outcome]) -> Outcome:
    """All must hold: the worst applicable outcome (reasons of the failing parts joined)."""
    if all(o.status == OK for o in outcomes):  # the common case, kept cheap for thousands of subjects
        return outcomes[0]
    live = [o for o in outcomes if o.status != NA]
    if not live:
        return Outcome(NA, "; ".join(o.reason for o in outcomes if o.reason))
    low = min(RANK[o.status] for o in live)
    bad = [o for o in live if RANK[o.status] == low]
    if low == RANK[OK]:
        return Outcome(OK, "; ".join(o.reason for o in live if o.reason))
    return Outcome(bad[0].status, "; ".join(o.reason for o in bad if o.reason), sum((o.objects for o in bad), ()))


def best(outcomes: list[Outcome]) -> Outcome:
    """One must hold: the best applicable outcome."""
    if outcomes[0].status == OK:
        return outcomes[0]
    live = [o for o in outcomes if o.status != NA]
    if not live:
        return Outcome(NA, "; ".join(o.reason for o in outcomes if o.reason))
    top = max(live, key=lambda o: RANK[o.status])
    if top.status == OK:
        return top
    # Nothing fully holds: explain with every alternative that was tried, and show their rows.
    objects = tuple(dict.fromkeys(obj for o in live for obj in o.objects))
    return Outcome(top.status, "; ".join(o.reason for o in live if o.reason), objects)


def capped(outcome: Outcome, at_most: str | None, why: str = "") -> Outcome:
    """An alternative that can at best earn ``partial`` (e.g. a plan without its records)."""
    if at_most == PARTIAL and outcome.status == OK:
        return Outcome(PARTIAL, why or outcome.reason, outcome.objects)
    return outcome


@dataclass(frozen=True)
class RuleType:
    """A generic rule type: ``plan(rule, rc, subjects)`` then ``judge(rule, rc, subjects) -> {pk: Outcome}``."""

    name: str
    plan: Callable
    judge: Callable
    params: tuple[str, ...] = ()  # keys of the rule that are parameters (with provenance)


@dataclass(frozen=True)
class Evaluator:
    """A named Python evaluator for what the generic rule types cannot express (never code in YAML)."""

    name: str
    judge: Callable  # (rc, subjects, params) -> {pk: Outcome}
    plan: Callable | None = None  # (rc, subjects, params) -> None
    params: tuple[str, ...] = ()  # parameters the catalogue must give, each with its provenance
    subject_models: tuple[str, ...] = ()  # subject models it understands
    doc: str = ""
    queries: Callable | None = None  # (rc, rule) -> [(key, build)]: the queries judge reads, asked for early


RULE_TYPES: dict[str, RuleType] = {}
EVALUATORS: dict[str, Evaluator] = {}


def rule_type(name: str, params: tuple[str, ...] = ()):
    """Register a generic rule type from a module exposing ``plan`` and ``judge`` functions."""

    def register(cls):
        RULE_TYPES[name] = RuleType(name, cls.plan, cls.judge, params)
        return cls

    return register


def evaluator(
    name: str,
    *,
    params: tuple[str, ...] = (),
    subjects: tuple[str, ...] = (),
    plan: Callable | None = None,
    queries: Callable | None = None,
):
    """Register a named evaluator; its docstring is the one-line description shown in the catalogue.
    ``queries(rc, rule)`` names the (key, build) queries its judge reads through ``engine.rows``, so the
    engine can send them with the shared queries; judge still runs any it does not find fetched."""

    def register(fn):
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        EVALUATORS[name] = Evaluator(name, fn, plan, params, subjects, doc, queries)
        return fn

    return register


@dataclass
class ParamLog:
    """The parameters a check used, with their provenance, as they are resolved (for the evidence)."""

    used: dict[str, dict] = field(default_factory=dict)

    def record(self, path: str, value, spec: dict) -> None:
        entry = {"value": value, "provenance": spec["provenance"]}
        if "policy" in spec:
            entry["source"] = f"policy {spec['policy']}"
        if spec.get("note"):
            entry["note"] = spec["note"]
        self.used[path] = entry
