"""Integrating queued entries and signing checkpoints, for the daemon, the Celery safety net, tests
and the demo."""

from __future__ import annotations

import time

from accountability.actors import SystemActor
from accountability.exceptions import NotAllowed
from accountability.permissions import is_unrestricted

from ..models import PendingEntry
from ..store import integrate_batch, mode, sign_checkpoint_if_behind

INTEGRATOR = SystemActor("ledger:integrator")


def integrate_pending(*, actor=INTEGRATOR, wait: float = 30.0) -> int:
    """Integrate everything queued so far and make sure a signed checkpoint covers the whole log;
    returns how many entries this call integrated. When the ``ledger_integrate`` daemon holds the
    integrator lock, waits (up to ``wait`` seconds) for it to drain the queue instead."""
    if not is_unrestricted(actor):
        raise NotAllowed("Only system jobs and superusers run the integrator.")
    total = 0
    if mode() == "queue":
        deadline = time.monotonic() + wait
        while True:
            done = integrate_batch()
            if done is None:  # the daemon is integrating: wait for the queue to empty
                if not PendingEntry.objects.exists() or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
                continue
            total += done
            if done == 0:
                break
    sign_checkpoint_if_behind()
    return total
