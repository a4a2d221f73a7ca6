"""The process lock of our flows: ``SELECT … FOR UPDATE`` on the process row that waits (bounded by a
PostgreSQL ``lock_timeout``) and is safe inside our services' own transactions.

viewflow's ``select_for_update_lock`` uses ``nowait`` and retries by catching the database error *inside*
its atomic block; nested in a service's transaction that leaves PostgreSQL's transaction aborted, so the
loser of a race got a 500 instead of a clean refusal. Here the attempt runs in a savepoint that rolls back
on timeout, and the waiter proceeds once the winner commits: it then re-reads the task, finds it done, and
the service answers 409.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.lock import SelectForUpdateLock


class WaitingSelectForUpdateLock(SelectForUpdateLock):
    """Row lock on the process; waits up to ``timeout_ms`` (PostgreSQL), then FlowLockFailed."""

    def __init__(self, timeout_ms: int = 10_000):
        super().__init__(nowait=False, attempts=1)
        self.timeout_ms = int(timeout_ms)

    @contextmanager
    def __call__(self, flow_class, process_pk):
        with transaction.atomic():
            try:
                with transaction.atomic():  # a savepoint: a timed-out attempt rolls back alone
                    postgres = connection.vendor == "postgresql"
                    if postgres:
                        with connection.cursor() as cursor:
                            cursor.execute(f"SET LOCAL lock_timeout = {self.timeout_ms}")
                    flow_class.process_class._default_manager.filter(pk=process_pk).select_for_update().exists()
                    if postgres:
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL lock_timeout = DEFAULT")
            except DatabaseError as exc:
                raise FlowLockFailed(f"Lock failed for {flow_class}") from exc
            yield


process_lock = WaitingSelectForUpdateLock()
