"""viewflow processes of the appeal and ethics-review flows, each linked one-to-one to its business row.

The process rows record the workflow (tasks, owners, timings); business status stays on ``Appeal`` and
``EthicsReview``. ``WorkflowTask`` is a proxy of viewflow's task table for the project-scoped admin inbox.
"""

from __future__ import annotations

from django.db import models
from viewflow.workflow.models import Process, Task


class AppealProcess(Process):
    """The ``AppealFlow`` process of one appeal."""

    appeal = models.OneToOneField("accountability.Appeal", on_delete=models.PROTECT, related_name="process")

    class Meta:
        ordering = ["-created"]
        verbose_name = "appeal process"


class EthicsReviewProcess(Process):
    """The ``EthicsReviewFlow`` process of one ethics review (all its versions)."""

    review = models.OneToOneField("accountability.EthicsReview", on_delete=models.PROTECT, related_name="process")

    class Meta:
        ordering = ["-created"]
        verbose_name = "ethics review process"


class WorkflowTask(Task):
    """A step of an appeal or ethics-review process (viewflow's task row), for inboxes and queues."""

    class Meta:
        proxy = True
        ordering = ["-created"]
        verbose_name = "workflow task"
