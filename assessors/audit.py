"""The cross-framework audit of a project: the engine's results, coverage per framework, a unified
score and the gaps ranked by severity with their remediation (plus the gate, for complete audits)."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

from .catalogue import SEVERITY_RANK, Catalogue, Check
from .engine import Engine, ProjectInfo, Result
from .gate import GateDecision, evaluate_gates, gate_queries

STATUS_RANK = {"fail": 0, "partial": 1, "pass": 2}
RANK_STATUS = {0: "fail", 1: "partial", 2: "pass"}


@dataclass
class AuditReport:
    """Everything one audit found about one project."""

    project: ProjectInfo
    evaluated_at: dt.datetime
    catalogue: Catalogue
    results: list[Result]
    complete: bool
    frameworks_requested: list[str] = field(default_factory=list)
    checks_requested: list[str] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)
    gate: GateDecision | None = None

    @property
    def counts(self) -> dict:
        counts = {"total": len(self.results), "pass": 0, "partial": 0, "fail": 0, "not_applicable": 0}
        for r in self.results:
            counts[r.status] += 1
        return counts

    @property
    def score(self) -> float | None:
        scores = [r.score for r in self.results if r.score is not None]
        return round(100 * sum(scores) / len(scores), 1) if scores else None

    @property
    def gaps(self) -> list[dict]:
        """Failing and partial checks: most severe first, fails before partials."""
        order = {r.check.id: i for i, r in enumerate(self.results)}  # ties keep the catalogue's order
        bad = [r for r in self.results if r.status in ("fail", "partial")]
        bad.sort(key=lambda r: (SEVERITY_RANK[r.check.severity], STATUS_RANK[r.status], order[r.check.id]))
        return [
            {
                "check": r.check.id,
                "aliases": list(r.check.aliases),
                "title": r.check.title,
                "severity": r.check.severity,
                "status": r.status,
                "summary": r.summary,
                "failing_total": r.failing_total,
                "failing": [f["id"] for f in r.failing[:5]],
                "frameworks": r.check.credited_frameworks,
                "remediation": r.check.remediation,
            }
            for r in bad
        ]

    def as_dict(self, *, include_evidence: bool = True) -> dict:
        return {
            "project": self.project.key,
            "evaluated_at": self.evaluated_at.isoformat(),
            "complete": self.complete,
            "catalogue": {
                "digest": self.catalogue.digest,
                "frameworks": {c: fw.version for c, fw in self.catalogue.frameworks.items()},
            },
            "score": self.score,
            "summary": self.counts,
            "frameworks": self.coverage,
            "gaps": self.gaps,
            "gate": self.gate.as_dict() if self.gate else None,
            "checks": [result_dict(r, self.catalogue, include_evidence) for r in self.results],
        }


def result_dict(r: Result, catalogue: Catalogue, include_evidence: bool = True) -> dict:
    data = {
        "check": r.check.id,
        "aliases": list(r.check.aliases),
        "title": r.check.title,
        "framework": r.check.framework,
        "check_version": r.check.version,
        "framework_version": catalogue.frameworks[r.check.framework].version,
        "citation": citation_text(r.check, catalogue),
        "credits": r.check.credits,
        "severity": r.check.severity,
        "status": r.status,
        "summary": r.summary,
    }
    if include_evidence:
        data["evidence"] = r.evidence()
        data["remediation"] = r.check.remediation
    return data


def citation_text(check: Check, catalogue: Catalogue) -> str:
    fw = catalogue.frameworks[check.framework]
    return f"{fw.short_title} {check.citation['ref']} ({check.citation['verified']})"


def _coverage_index(catalogue: Catalogue) -> list[tuple]:
    """Per framework: its leaf requirements with the checks crediting each (computed once per catalogue)."""
    index = getattr(catalogue, "_coverage_index", None)
    if index is None:
        crediting: dict[str, list[str]] = defaultdict(list)
        for check in catalogue.checks.values():
            for ref in check.credits:
                crediting[ref].append(check.id)
        index = []
        for fw in catalogue.frameworks.values():
            leaves = [(leaf.id, list(crediting.get(leaf.ref, ()))) for leaf in fw.leaves]
            checks = sorted(
                {cid for _, cids in leaves for cid in cids}
                | {c for ref, cs in crediting.items() if ref.startswith(f"{fw.code}:") for c in cs}
            )
            index.append((fw, leaves, checks))
        catalogue._coverage_index = index
    return index


def framework_coverage(engine: Engine, catalogue: Catalogue, project_id: int, results: list[Result]) -> list[dict]:
    """Per framework: the requirements its checks (and other frameworks' mapped checks) credit, and how."""
    # Projects whose checks ended the same way (and to which the same frameworks apply) share one answer.
    applies = tuple(engine.framework_applies(code, project_id) for code in catalogue.frameworks)
    key = (tuple((r.check.id, r.status) for r in results), applies)
    memo = engine.memo.setdefault("coverage", {})
    if key not in memo:
        memo[key] = _coverage(engine, catalogue, project_id, results)
    return memo[key]


def _coverage(engine: Engine, catalogue: Catalogue, project_id: int, results: list[Result]) -> list[dict]:
    by_id = {r.check.id: r for r in results}
    complete = len(by_id) == len(catalogue.checks)  # every check ran: the precomputed lists apply as they are
    out = []
    for fw, leaves, fw_checks in _coverage_index(catalogue):
        entry = {"framework": fw.code, "title": fw.short_title, "version": fw.version}
        applies, why = engine.framework_applies(fw.code, project_id)
        if not applies:
            out.append({**entry, "status": "not_applicable", "reason": why})
            continue
        rows, tally = [], dict.fromkeys(("pass", "partial", "fail", "not_applicable", "not_assessed"), 0)
        for leaf_id, check_ids in leaves:
            mapped = check_ids if complete else [c for c in check_ids if c in by_id]
            rank = 3
            for cid in mapped:
                rank = min(rank, STATUS_RANK.get(by_id[cid].status, 3))
            status = RANK_STATUS[rank] if rank < 3 else ("not_applicable" if mapped else "not_assessed")
            tally[status] += 1
            rows.append({"id": leaf_id, "status": status, "checks": mapped})
        scores = [by_id[c].score for c in fw_checks if c in by_id and by_id[c].score is not None]
        assessed = tally["pass"] + tally["partial"] + tally["fail"]
        out.append(
            {
                **entry,
                "status": "assessed",
                "requirements": {
                    "total": len(rows),
                    "assessed": assessed,
                    "satisfied": tally["pass"],
                    "partial": tally["partial"],
                    "unsatisfied": tally["fail"],
                    "not_applicable": tally["not_applicable"],
                    "not_assessed": tally["not_assessed"],
                },
                "coverage_pct": round(100 * tally["pass"] / assessed, 1) if assessed else None,
                "score": round(100 * sum(scores) / len(scores), 1) if scores else None,
                "checks": [c for c in fw_checks if c in by_id],
                "requirement_status": rows,
            }
        )
    return out


_gc_lock = threading.Lock()
_gc_pauses = 0  # audits in progress in this process that asked for the pause
_gc_was_enabled = False


@contextmanager
def paused_gc():
    """Pause Python's cyclic garbage collector for a bulk step (reference counting still frees memory)."""
    # An audit of every project allocates about a million small dicts and tuples, none of them in cycles;
    # the collector's generation passes kept rescanning them for nothing (0.4-0.6 s of a ~1.3 s CPU run).
    # The switch is process-wide: a counter under a lock makes overlapping audits in a threaded server
    # re-enable the collector exactly once, when the last of them ends, and only if it was on before.
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def build_reports(
    engine: Engine,
    checks: list[Check],
    *,
    complete: bool,
    frameworks: list[str] | None = None,
    check_ids: list[str] | None = None,
    on_result=None,
) -> dict[int, AuditReport]:
    """Evaluate ``checks`` for every project of the engine; one report per project (gate when complete)."""
    with paused_gc():
        return _build_reports(engine, checks, complete, frameworks, check_ids, on_result)


def _build_reports(engine, checks, complete, frameworks, check_ids, on_result) -> dict[int, AuditReport]:
    """``build_reports`` with the collector paused."""
    if complete:  # the gate's queries travel with the checks' own
        for key, build in gate_queries(engine):
            engine.prefetch(key, build)
    results = engine.evaluate(checks, on_result=on_result)
    by_project: dict[int, list[Result]] = defaultdict(list)
    for r in results:
        by_project[r.project_id].append(r)
    reports = {}
    for pid, info in engine.projects.items():
        report = AuditReport(
            info, engine.now, engine.catalogue, by_project.get(pid, []), complete, frameworks or [], check_ids or []
        )
        report.coverage = framework_coverage(engine, engine.catalogue, pid, report.results)
        reports[pid] = report
    if complete:
        gates = evaluate_gates(engine, {pid: rep.results for pid, rep in reports.items()})
        for pid, decision in gates.items():
            reports[pid].gate = decision
    return reports
