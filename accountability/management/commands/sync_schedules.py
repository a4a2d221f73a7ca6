"""sync_schedules: install the default beat schedule without overwriting staff edits."""

from __future__ import annotations

import json

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from accountability.schedules import DEFAULT_SCHEDULES, BeatEntry


def _schedule_of(entry: BeatEntry) -> dict:
    if entry.every_seconds:
        interval, _ = IntervalSchedule.objects.get_or_create(every=entry.every_seconds, period=IntervalSchedule.SECONDS)
        return {"interval": interval}
    minute, hour, day_of_month, month_of_year, day_of_week = entry.crontab.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone=settings.CELERY_TIMEZONE,
    )
    return {"crontab": crontab}


class Command(BaseCommand):
    help = (
        "Create the missing default beat entries (accountability/schedules.py) as django-celery-beat periodic "
        "tasks. Existing entries are kept as staff left them; --reset restores their defaults."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print JSON only.")
        parser.add_argument("--reset", action="store_true", help="Restore the defaults of existing entries too.")

    @transaction.atomic
    def handle(self, *args, **opts):
        app = current_app._get_current_object()
        app.loader.import_default_modules()  # autodiscovers every installed app's tasks module
        registered = set(app.tasks)
        report = {"created": [], "reset": [], "kept": [], "skipped": []}
        for entry in DEFAULT_SCHEDULES:
            if entry.task not in registered:
                report["skipped"].append({"name": entry.name, "task": entry.task, "why": "task not registered"})
                continue
            defaults = {
                "task": entry.task,
                "description": entry.description,
                "kwargs": json.dumps(entry.kwargs),
                **_schedule_of(entry),
            }
            existing = PeriodicTask.objects.filter(name=entry.name).first()
            if existing is None:
                PeriodicTask.objects.create(name=entry.name, enabled=True, **defaults)
                report["created"].append(entry.name)
            elif opts["reset"]:
                for key, value in {"interval": None, "crontab": None, **defaults}.items():
                    setattr(existing, key, value)
                existing.enabled = True
                existing.save()
                report["reset"].append(entry.name)
            else:
                report["kept"].append(entry.name)
        if opts["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for key in ("created", "reset", "kept"):
            for name in report[key]:
                self.stdout.write(f"{key:8} {name}")
        for item in report["skipped"]:
            self.stdout.write(f"skipped  {item['name']} ({item['task']}: {item['why']})")
