"""Workflow steps (viewflow task rows) as API data."""

from __future__ import annotations

from rest_framework import serializers

from accountability.models import Appeal, WorkflowTask
from accountability.selectors import workflow as task_sel


class TaskSerializer(serializers.ModelSerializer):
    """A step: what it is, whose it is, its state and its subject."""

    step = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()
    flow = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowTask
        fields = [
            "id",
            "flow",
            "step",
            "label",
            "status",
            "subject",
            "project",
            "owner",
            "data",
            "created",
            "assigned",
            "finished",
            "scheduled",
        ]
        read_only_fields = fields

    def _subject(self, obj):
        cache = self.context.setdefault("_subjects", {})
        if obj.process_id not in cache:
            cache[obj.process_id] = task_sel.task_subject(obj)
        return cache[obj.process_id]

    def get_step(self, obj) -> str:
        return obj.flow_task.name if obj.flow_task else ""

    def get_label(self, obj) -> str:
        return task_sel.step_label(obj)

    def get_flow(self, obj) -> str:
        return "appeal" if isinstance(self._subject(obj), Appeal) else "ethics_review"

    def get_subject(self, obj) -> str:
        return self._subject(obj).public_id

    def get_project(self, obj) -> str:
        return self._subject(obj).project.key

    def get_owner(self, obj) -> str | None:
        return obj.owner.get_username() if obj.owner_id else None
