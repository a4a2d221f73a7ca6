"""The check engine: evaluates catalogue checks set-based for one or many projects at once.

Plan every check (register the aggregates and subject columns it needs), run the shared queries, then
judge each check: one outcome per subject, aggregated per project into pass / partial / fail /
not_applicable with its evidence. Each check runs once per audit; its result then credits every
requirement it maps to, in every framework.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import router
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accountability.config import policy
from accountability.models import Project

from . import sqlcache
from .batch import Batch, CachedScope, SubjectModel, SubjectStore, sample
from .catalogue import Catalogue, Check
from .checks import base
from .checks.base import FAIL, NA, NOT_JUDGED, OK, PARTIAL, Outcome, ParamLog
from .modelspec import Values, compile_filter, flat, resolve_model

FAILING_CAP = 25  # failing subjects kept in a result's evidence (the total is always given)
STATUS = {OK: "pass", PARTIAL: "partial", FAIL: "fail"}


@dataclass
class ProjectInfo:
    pk: int
    key: str
    name: str
    is_federal_agency: bool
    is_cfo_act_agency: bool
    frameworks: dict[str, bool] = field(default_factory=dict)


@dataclass
class Result:
    """The result of one check for one project, with its evidence."""

    check: Check
    project_id: int
    status: str
    summary: str
    counts: dict
    ratio: float | None
    failing: list[dict]
    failing_total: int
    parameters: dict
    pairs: list = field(default_factory=list, repr=False)  # (subject row, outcome) of this project

    @property
    def outcomes(self) -> dict[int, Outcome]:
        """Outcome per subject pk (built on demand: the gate and tests read it, storage does not)."""
        return {row["pk"]: o for row, o in self.pairs}

    @property
    def score(self) -> float | None:
        return {"pass": 1.0, "partial": 0.5, "fail": 0.0}.get(self.status)

    def evidence(self) -> dict:
        return {
            "subjects": self.check.subjects["label"],
            "counts": self.counts,
            "ratio": self.ratio,
            "failing": self.failing,
            "failing_total": self.failing_total,
            "parameters": self.parameters,
        }


class Subjects:
    """The subject rows of one check (already limited to the projects the check applies to)."""

    def __init__(self, model, label: str, rows: list[dict]):
        self.model = model
        self.label = label
        self.rows = rows

    def key(self, row: dict, via: str | None):
        if via in (None, "pk"):
            return row["pk"]
        if via == "project":
            return row["project_ref"]
        return row[via]


class RuleContext:
    """What one check's rules see: the clock, the shared batch, and a log of the parameters used."""

    def __init__(self, engine: Engine, check: Check):
        self.engine = engine
        self.check = check
        self.today = engine.today
        self.now = engine.now
        self.batch = engine.batch
        self.store = engine.store
        self.log = ParamLog()
        self.handles: dict[str, object] = {}
        self.subject_q: Q | None = None  # the check's subject filter, for evaluators to narrow their query

    def param(self, rule: dict, name: str, path: str, default=None):
        """A parameter of the rule (or its ``params``), resolved from its value or the policy file."""
        spec = _param_spec(rule, name)
        if spec is None:
            return default
        value = spec["value"] if "value" in spec else _policy_value(spec["policy"])
        self.log.record(f"{path}.{name}" if path else name, value, spec)
        return value

    def peek(self, rule: dict, name: str, default=None):
        """A parameter's value without logging it: for naming queries before the rule is judged (judge
        logs it, in its own order, when it reads it)."""
        spec = _param_spec(rule, name)
        if spec is None:
            return default
        return spec["value"] if "value" in spec else _policy_value(spec["policy"])

    def date_param(self, rule: dict, name: str, path: str) -> dt.date:
        value = self.param(rule, name, path)
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def values(self, rule: dict, path: str) -> Values:
        """What ``$today``, ``$now`` and the rule's ``$param.x`` stand for in its filters."""
        return Values(self.today, self.now, lambda n: self.param(rule, n, path))

    def q(self, model, rule: dict, path: str, key: str = "filter") -> Q:
        return compile_filter(model, rule.get(key), self.values(rule, path))

    def flat_q(self, model, rule: dict, path: str, key: str = "filter") -> Q:
        """The rule's filter with its to-many parts as subqueries over the audited projects (``flat``)."""
        return flat(model, rule.get(key), self.values(rule, path), self.engine.scope_ids)

    def sample(self, model, link: str, q: Q, order_by: list[str], keys: set, path: str) -> dict:
        """The rows behind failing subjects (capped), for the evidence."""
        self.engine.sample_queries += 1
        return sample(self.batch.scope, ("sample", self.check.id, path), model, link, q, order_by, keys)


def _param_spec(rule: dict, name: str) -> dict | None:
    return rule.get(name) if isinstance(rule.get(name), dict) else rule.get("params", {}).get(name)


def _python_rules(rule: dict):
    """The named-evaluator rules of a rule tree (inside all_of, any_of and deadline too)."""
    if rule["type"] == "python":
        yield rule
    for sub in rule.get("rules", ()):
        yield from _python_rules(sub)
    if isinstance(rule.get("rule"), dict):
        yield from _python_rules(rule["rule"])


def _policy_value(dotted: str):
    value = policy()
    for part in dotted.split("."):
        value = value[part]
    return value


def plan_rule(rule: dict, rc: RuleContext, subjects, path: str) -> None:
    if rule["type"] == "python":
        ev = base.EVALUATORS[rule["evaluator"]]
        if ev.plan:
            ev.plan(rc, subjects, rule, path)
        return
    base.RULE_TYPES[rule["type"]].plan(rule, rc, subjects, path)


def judge_rule(rule: dict, rc: RuleContext, subjects: Subjects, path: str) -> dict[int, Outcome]:
    if rule["type"] == "python":
        outcomes = base.EVALUATORS[rule["evaluator"]].judge(rc, subjects, rule, path)
    else:
        outcomes = base.RULE_TYPES[rule["type"]].judge(rule, rc, subjects, path)
    if rule.get("at_most"):
        outcomes = {pk: base.capped(o, rule["at_most"]) for pk, o in outcomes.items()}
    return outcomes


class _Planned:
    """A check between planning and judging."""

    def __init__(self, check: Check, rc: RuleContext, model, spec_flag):
        self.check, self.rc, self.model, self.spec_flag = check, rc, model, spec_flag


class Engine:
    """Evaluate checks for ``project_ids`` (None: every project) at ``now``."""

    def __init__(self, catalogue: Catalogue, *, project_ids: list[int] | None = None, now: dt.datetime | None = None):
        self.catalogue = catalogue
        self.project_ids = project_ids
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.batch = Batch(project_ids)
        self.store = SubjectStore(project_ids)
        self.sample_queries = 0
        self._applies: dict[tuple, dict] = {}
        self.memo: dict = {}  # results of evaluator queries shared by several checks (e.g. waivers in force)
        self._identities: dict[tuple[str, int], dict] = {}
        self.projects: dict[int, ProjectInfo] = {}
        self._framework_flags: dict[str, str | tuple] = {}
        # Queries asked for ahead (evaluators', the gate's) and their rows once fetched; only where they
        # can share the shared queries' round trip, so elsewhere every query runs when it is read, as before.
        self._batched = sqlcache.batches(router.db_for_read(Project))
        self._wanted: dict[tuple, Callable] = {}
        self._fetched: dict[tuple, list[dict]] = {}

    def rows(self, key: tuple, build) -> list[dict]:
        """Rows of ``build(project_ids)`` (a values() queryset), compiled once per audit plan and reused
        (already fetched when it was asked for with ``prefetch``)."""
        found = self._fetched.get(key)
        if found is not None:
            return found
        scope = self.batch.scope
        self.sample_queries += 1
        return scope.rows(key, lambda: build(scope.build_ids))

    def prefetch(self, key: tuple, build) -> None:
        """Ask for ``rows(key, build)`` to be fetched with the shared queries, before any check is judged."""
        if self._batched and key not in self._fetched:
            self._wanted.setdefault(key, build)

    @property
    def scope_ids(self):
        """The project restriction as compiled into this audit's SQL (a sentinel for one project)."""
        return self.batch.scope.build_ids

    @property
    def queries(self) -> int:
        return self.batch.queries + self.store.queries + self.sample_queries

    # --- applicability ------------------------------------------------------------------------------
    def _plan_projects(self) -> None:
        self.store.need_fields(Project, "key", "name", "is_federal_agency", "is_cfo_act_agency")
        for fw in self.catalogue.frameworks.values():
            flt = fw.applicability.get("projects")
            if flt:
                values = Values(self.today, self.now, lambda n: None)
                self._framework_flags[fw.code] = self.store.flag(Project, flat(Project, flt, values, self.scope_ids))

    def _load_projects(self) -> None:
        for row in self.store.rows(Project):
            info = ProjectInfo(row["pk"], row["key"], row["name"], row["is_federal_agency"], row["is_cfo_act_agency"])
            for code, flag in self._framework_flags.items():
                info.frameworks[code] = bool(row[flag])
            self.projects[row["pk"]] = info

    def framework_applies(self, code: str, project_id: int) -> tuple[bool, str]:
        fw = self.catalogue.frameworks[code]
        in_force, why = fw.in_force(self.today)
        if not in_force:
            return False, why
        if not self.projects[project_id].frameworks.get(code, True):
            return False, f"{fw.short_title} does not apply: {fw.applicability['description']}"
        return True, ""

    def check_applies(self, check: Check, project_id: int) -> tuple[bool, str]:
        fw = self.catalogue.frameworks[check.framework]
        in_force, why = fw.in_force(self.today)
        if not in_force:
            return False, why
        if check.effective_from and self.today < check.effective_from:
            return False, f"in force from {check.effective_from.isoformat()}"
        if check.projects == "framework":
            return self.framework_applies(check.framework, project_id)
        return True, ""

    def _plan_key(self, checks: list[Check]) -> tuple | None:
        """What fixes this audit's SQL: the catalogue, the checks, the policy values and the day."""
        if self.catalogue.uses_now:  # filters reading $now change every call: nothing to reuse
            return None
        from django.db import router

        alias = router.db_for_read(Project)
        digest = hashlib.sha256(json.dumps(policy(), sort_keys=True, default=str).encode()).hexdigest()
        mode = "all" if self.project_ids is None else ("one" if len(self.project_ids) == 1 else "many")
        return (alias, self.catalogue.digest, tuple(c.id for c in checks), self.today, digest, mode)

    # --- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, checks: Iterable[Check], on_result: Callable[[Result], None] | None = None) -> list[Result]:
        """Evaluate ``checks`` for every audited project; ``on_result`` sees each result as it is judged."""
        checks = list(checks)
        key = self._plan_key(checks)
        self.batch.scope = self.store.scope = CachedScope(self.project_ids, key)
        planned = self._restore_plan(key) if key is not None else None
        if planned is None:
            planned = self._plan(checks)
            if key is not None:
                _remember_plan(key, self, planned)
        self._declare_queries(planned)
        self._fetch()
        self._load_projects()
        results = []
        for item in planned:
            for result in self._judge(item):
                results.append(result)
                if on_result:
                    on_result(result)
        return results

    def _declare_queries(self, planned: list[_Planned]) -> None:
        """Ask ahead for the queries the evaluators of the checks in force will read."""
        if not self._batched:
            return
        for item in planned:
            check = item.check
            if not self.catalogue.frameworks[check.framework].in_force(self.today)[0]:
                continue
            if check.effective_from and self.today < check.effective_from:
                continue
            for rule in _python_rules(check.rule):
                queries = base.EVALUATORS[rule["evaluator"]].queries
                for key, build in queries(item.rc, rule) if queries else ():
                    self.prefetch(key, build)

    def _fetch(self) -> None:
        """Subject rows, grouped aggregates and the queries asked for ahead: together, in one round trip
        where the database allows it."""
        scope = self.batch.scope
        wanted = [(key, build, scope.build_ids) for key, build in self._wanted.items()]
        self._wanted = {}

        def receive(key):
            def take(rows):
                self._fetched[key] = rows
                self.sample_queries += 1

            return take

        ahead = [(key, lambda build=build, ids=ids: build(ids), receive(key)) for key, build, ids in wanted]
        scope.run_all([*self.store.pending(), *self.batch.pending(), *ahead])

    def _plan(self, checks: list[Check]) -> list[_Planned]:
        """Register every check's subjects, columns and aggregates (no query runs here)."""
        self._plan_projects()
        planned = []
        for check in checks:
            rc = RuleContext(self, check)
            model = resolve_model(check.subjects["model"])
            flt = check.subjects.get("filter")
            values = Values(self.today, self.now, lambda n: None)
            rc.subject_q = flat(model, flt, values, self.scope_ids) if flt else None
            spec_flag = self.store.flag(model, rc.subject_q) if flt else None
            self.store.need_fields(model)  # every subject model gets its query, even with no extra column
            plan_rule(check.rule, rc, _SubjectHandle(self.store, model), "rule")
            planned.append(_Planned(check, rc, model, spec_flag))
        return planned

    def _restore_plan(self, key: tuple) -> list[_Planned] | None:
        """The plan of an identical earlier audit (same catalogue, checks, policy and day), if remembered."""
        saved = _PLANS.get(key)
        if saved is None:
            return None
        _PLANS.move_to_end(key)
        self._framework_flags = dict(saved["framework_flags"])
        self.batch.groups = saved["groups"]  # read-only here: results live in batch.results
        for model, (fields, flags) in saved["subjects"].items():
            self.store.models[model] = SubjectModel(model, set(fields), dict(flags))
        planned = []
        for check, handles, logged, model, spec_flag, subject_q in saved["checks"]:
            rc = RuleContext(self, check)
            rc.handles, rc.log.used, rc.subject_q = handles, dict(logged), subject_q
            planned.append(_Planned(check, rc, model, spec_flag))
        return planned

    def _judge(self, item: _Planned) -> list[Result]:
        check, rc = item.check, item.rc
        scope = (check.framework, check.projects, check.effective_from)
        if scope not in self._applies:  # checks of one framework share the per-project answer
            self._applies[scope] = {pid: self.check_applies(check, pid) for pid in self.projects}
        applies = self._applies[scope]
        inside = {pid for pid, (ok, _why) in applies.items() if ok}
        flag = item.spec_flag
        rows = [
            row for row in self.store.rows(item.model) if row["project_ref"] in inside and (flag is None or row[flag])
        ]
        subjects = Subjects(item.model, check.subjects["label"], rows)
        outcomes = judge_rule(check.rule, rc, subjects, "rule") if rows else {}
        by_project: dict[int, list[tuple[dict, Outcome]]] = defaultdict(list)
        get = outcomes.get
        for row in rows:
            by_project[row["project_ref"]].append((row, get(row["pk"], NOT_JUDGED)))
        results = []
        for pid, (ok, why) in applies.items():
            if not ok:
                results.append(self._not_applicable(check, pid, why, rc))
                continue
            results.append(self._aggregate(check, pid, by_project.get(pid, []), rc, item.model))
        return results

    def _not_applicable(self, check: Check, pid: int, why: str, rc: RuleContext) -> Result:
        counts = {"total": 0, "ok": 0, "partial": 0, "fail": 0, "not_applicable": 0}
        return Result(check, pid, NA, f"Not applicable: {why}.", counts, None, [], 0, rc.log.used)

    def _aggregate(self, check: Check, pid: int, pairs: list, rc: RuleContext, model) -> Result:
        label = check.subjects["label"]
        counts = {"total": len(pairs), OK: 0, PARTIAL: 0, FAIL: 0, NA: 0}
        fails, partials = [], []
        for pair in pairs:  # one pass: thousands of subjects per check across an all-projects audit
            status = pair[1].status
            counts[status] += 1
            if status == FAIL:
                fails.append(pair)
            elif status == PARTIAL:
                partials.append(pair)
        applicable = counts[OK] + counts[PARTIAL] + counts[FAIL]
        if not applicable:
            return Result(check, pid, NA, f"Not applicable: no {label} in scope.", counts, None, [], 0, rc.log.used)
        ratio = round(counts[OK] / applicable, 4)
        status = self._status(check, rc, counts, ratio)
        # Fails first, then partials, each by id (rows arrive in pk order, so no sort is needed there).
        shown = _first_by_pk(fails, FAILING_CAP)
        if len(shown) < FAILING_CAP:
            shown += _first_by_pk(partials, FAILING_CAP - len(shown))
        failing = [self._describe(row, o, model) for row, o in shown]
        summary = f"{counts[OK]} of {applicable} {label} meet the check"
        if counts[PARTIAL]:
            summary += f", {counts[PARTIAL]} partially"
        if counts[FAIL]:
            summary += f", {counts[FAIL]} do not"
        return Result(
            check,
            pid,
            status,
            summary + ".",
            counts,
            ratio,
            failing,
            len(fails) + len(partials),
            rc.log.used,  # shared by every project's result of this check: the same parameters
            pairs,
        )

    def _status(self, check: Check, rc: RuleContext, counts: dict, ratio: float) -> str:
        agg = check.aggregate
        if not agg:
            if counts[FAIL]:
                return "fail"
            return "partial" if counts[PARTIAL] else "pass"
        if ratio >= rc.param(agg, "pass_ratio", "aggregate"):
            return "pass"
        partial_ratio = rc.param(agg, "partial_ratio", "aggregate")
        if partial_ratio is not None and ratio >= partial_ratio:
            return "partial"
        if agg.get("partial_if_any") and counts[OK] + counts[PARTIAL]:
            return "partial"
        return "fail"

    def _describe(self, row: dict, outcome: Outcome, model) -> dict:
        item = {**self._identity(model._meta.label, row["pk"]), "status": outcome.status, "reason": outcome.reason}
        item["admin_url"] = item.pop("admin_url")  # keep the key order of stored evidence
        if outcome.objects:
            item["related"] = [dict(self._identity(label, pk)) for label, pk in outcome.objects[:5]]
        return item

    def _identity(self, label: str, pk: int) -> dict:
        """id, model, pk and admin URL of a row: the same subject fails several checks, so built once."""
        key = (label, pk)
        found = self._identities.get(key)
        if found is None:
            lower = label.lower()
            found = {"id": display_id(_model(label), pk, self.projects), "model": lower, "pk": pk}
            found["admin_url"] = admin_url(lower, pk)
            self._identities[key] = found
        return found


def _first_by_pk(pairs: list, n: int) -> list:
    """The ``n`` (row, outcome) pairs with the lowest row pks."""
    if len(pairs) <= n:
        return sorted(pairs, key=lambda pair: pair[0]["pk"])
    return heapq.nsmallest(n, pairs, key=lambda pair: pair[0]["pk"])


class _SubjectHandle:
    """What ``plan`` sees of the subjects: the model, and ways to ask for columns and flags."""

    def __init__(self, store: SubjectStore, model):
        self.store, self.model = store, model

    def need_fields(self, *names: str) -> None:
        self.store.need_fields(self.model, *names)

    def need_via(self, via: str | None) -> None:
        if via not in (None, "pk", "project"):
            self.store.need_fields(self.model, via)

    def flag(self, q: Q) -> str:
        return self.store.flag(self.model, q)


_PLANS: OrderedDict[tuple, dict] = OrderedDict()  # audit plans by plan key (bounded, most recent kept)


def _remember_plan(key: tuple, engine: Engine, planned: list[_Planned]) -> None:
    _PLANS[key] = {
        "framework_flags": dict(engine._framework_flags),
        "groups": engine.batch.groups,
        "subjects": {m: (frozenset(e.fields), dict(e.flags)) for m, e in engine.store.models.items()},
        "checks": [(p.check, p.rc.handles, dict(p.rc.log.used), p.model, p.spec_flag, p.rc.subject_q) for p in planned],
    }
    if len(_PLANS) > 32:
        _PLANS.popitem(last=False)


def clear_plans() -> None:
    _PLANS.clear()


_MODELS: dict[str, type] = {}


def _model(label: str):
    if label not in _MODELS:
        _MODELS[label] = apps.get_model(label)
    return _MODELS[label]


_ADMIN_URLS: dict[str, str | None] = {}


def admin_url(label_lower: str, pk: int) -> str | None:
    """The admin change page of a row (the URL pattern is resolved once per model)."""
    if label_lower not in _ADMIN_URLS:
        app, model = label_lower.split(".")
        try:
            _ADMIN_URLS[label_lower] = reverse(f"admin:{app}_{model}_change", args=[987654321])
        except NoReverseMatch:
            _ADMIN_URLS[label_lower] = None
    template = _ADMIN_URLS[label_lower]
    return template.replace("987654321", str(pk)) if template else None


def display_id(model, pk: int, projects: dict[int, ProjectInfo]) -> str:
    """The id people use: a public id (UC-00042), a project key, or model #pk."""
    if model is Project:
        info = projects.get(pk)
        return info.key if info else f"project #{pk}"
    prefix = getattr(model, "PUBLIC_ID_PREFIX", "")
    return f"{prefix}-{pk:05d}" if prefix else f"{model._meta.verbose_name} #{pk}"
