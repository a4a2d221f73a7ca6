"""Follow-up work for Celery, scheduled after commit by the task's stable name, so services never import
the task module (an interface) and nothing is sent for a transaction that rolls back."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Send task ``task_name`` once the surrounding transaction commits (at once outside one)."""
    # A broker failure is logged, not raised: the database keeps what still has to be done (pending
    # e-mails and webhook deliveries), and the periodic dispatchers pick it up.

    def send():
        try:
            current_app.tasks[task_name].apply_async(args=args, kwargs=kwargs)
        except Exception:  # the request already committed; the dispatcher retries from the database
            log.exception("could not enqueue %s; the periodic dispatcher will pick the work up", task_name)

    transaction.on_commit(send)
