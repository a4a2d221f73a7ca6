"""The seed's ledger metrics, defined to mean something (ledger.md §5.8): entries_per_day,
chain_integrity (anything below 100 % is an alert), violation_rate per 1,000 AI actions,
audit_response_time (measured now, on real evidence bundles) and attribution_completeness."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import LedgerEntry, LedgerHead, PendingEntry, VerificationRun, any_type_since
from ..schema import AI_TYPES, EntryType
from ._scope import require_reader, scope_q
from .entries import effective_document, entry_inclusion

STALE_AFTER = dt.timedelta(days=1)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def chain_integrity() -> dict:
    """The latest verification: percent of entries valid, the first bad entry, and whether to alert."""
    run = VerificationRun.objects.order_by("-finished_at", "-id").first()
    head = LedgerHead.objects.filter(pk=1).first()
    size = head.size if head else 0
    if run is None:
        return {"percent": None, "ok": None, "alert": False, "status": "never verified", "log_size": size}
    age = (timezone.now() - run.finished_at).total_seconds()
    alert = not run.ok or run.chain_integrity < 100.0
    return {
        "percent": run.chain_integrity,
        "ok": run.ok,
        "alert": alert,
        "status": "FAILED" if alert else ("stale" if age > STALE_AFTER.total_seconds() else "ok"),
        "first_bad_entry": (
            {"seq": run.first_bad_seq, "entry_id": run.first_bad_entry_id, "reason": run.first_bad_reason}
            if run.first_bad_seq is not None
            else None
        ),
        "verified_size": run.size,
        "log_size": size,
        "verified_at": run.finished_at.isoformat(),
        "verification_age_s": round(age, 1),
        "mode": run.mode,
    }


def ledger_metrics(actor, *, project_key: str = "", days: int = 30, samples: int = 20) -> dict:
    """All five metrics over the last ``days`` days, for the projects the actor may read."""
    scope = scope_q(require_reader(actor))
    if project_key:
        scope &= Q(project_key=project_key)
    since = timezone.now() - dt.timedelta(days=days)
    window = scope & any_type_since(since)
    # Counted by the database in one grouped pass per table: (type, gaps, day) has a few hundred
    # combinations at most, where fetching one row per entry took seconds at a million entries.
    by_type, per_day, gaps = Counter(), Counter(), Counter()
    total = complete = 0
    for model in (LedgerEntry, PendingEntry):
        grouped = (
            model.objects.filter(window)
            .annotate(d=TruncDate("occurred_at"))
            .values("entry_type", "attribution_gaps", "d")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in grouped:
            n = r["n"]
            total += n
            by_type[r["entry_type"]] += n
            per_day[r["d"]] += n
            for code in r["attribution_gaps"].split():
                gaps[code] += n
            if not r["attribution_gaps"]:
                complete += n
    actions = sum(by_type[t] for t in AI_TYPES)
    integrity = chain_integrity()
    alerts = []
    if integrity["alert"]:
        first = integrity.get("first_bad_entry") or {}
        alerts.append(
            f"Chain integrity {integrity['percent']} % < 100 %: first bad entry {first.get('entry_id') or ''} "
            f"(seq {first.get('seq')}, {first.get('reason')})."
        )
    return {
        "window_days": days,
        "project": project_key or None,
        "entries_per_day": {
            "average": round(total / days, 2),
            "days": [{"date": d.isoformat(), "count": n} for d, n in sorted(per_day.items())],
            "by_type": dict(sorted(by_type.items())),
        },
        "chain_integrity": integrity,
        "violation_rate": {
            "per_1000_actions": round(1000 * by_type[EntryType.VIOLATION] / actions, 2) if actions else 0.0,
            "violations": by_type[EntryType.VIOLATION],
            "ai_actions": actions,
        },
        "audit_response_time": audit_response_time(scope, samples=samples),
        "attribution_completeness": {
            "percent": round(100 * complete / total, 2) if total else 100.0,
            "entries": total,
            "incomplete": total - complete,
            "reasons": dict(sorted(gaps.items())),
        },
        "alerts": alerts,
    }


def audit_response_time(scope: Q, *, samples: int = 20) -> dict:
    """Time to assemble a complete evidence bundle (entry as corrected, inclusion proof, signed
    checkpoint) for recent entries, measured now; plus how long entries waited to be integrated."""
    recent = list(LedgerEntry.objects.filter(scope).order_by("-seq")[:samples])
    timings = []
    for entry in recent:
        start = time.perf_counter()
        effective_document(entry)
        entry_inclusion(entry)
        timings.append((time.perf_counter() - start) * 1000)
    lags = [(e.recorded_at - e.received_at).total_seconds() * 1000 for e in recent]
    return {
        "samples": len(timings),
        "p50_ms": round(statistics.median(timings), 3) if timings else None,
        "p99_ms": round(_pct(timings, 0.99), 3) if timings else None,
        "integration_lag_p50_ms": round(statistics.median(lags), 3) if lags else None,
        "integration_lag_p99_ms": round(_pct(lags, 0.99), 3) if lags else None,
        "pending": PendingEntry.objects.filter(scope).count(),
    }
