"""Celery tasks of the ledger: thin wrappers with stable names (the beat schedule refers to them).

- ledger.integrate_pending: safety net for the integrator daemon (a no-op while the daemon leads);
  also signs a checkpoint covering inline appends. Every 10-60 s.
- ledger.purge_expired: the daily retention purge.
- ledger.verify: incremental verification (full=True for a periodic full one); failures alert.
"""

from __future__ import annotations

from celery import shared_task

from accountability.actors import SystemActor

from .services.integration import integrate_pending
from .services.retention import ledger_purge
from .services.verification import ledger_verify


@shared_task(name="ledger.integrate_pending", ignore_result=True)
def ledger_integrate_task() -> int:
    """Integrate whatever is queued (idempotent; skipped while another integrator holds the lock)."""
    return integrate_pending(actor=SystemActor("celery:ledger_integrate"), wait=0)


@shared_task(name="ledger.purge_expired", ignore_result=True)
def ledger_purge_task(limit: int = 10000) -> int:
    """Purge expired payloads and record the purge (idempotent: purged rows are never selected again)."""
    return ledger_purge(actor=SystemActor("celery:ledger_purge"), limit=limit).count


@shared_task(name="ledger.verify", ignore_result=True)
def ledger_verify_task(full: bool = False) -> bool:
    """Verify the ledger; a failure is recorded, logged as critical and mailed to the admins."""
    return ledger_verify(actor=SystemActor("celery:ledger_verify"), incremental=not full).report.ok
