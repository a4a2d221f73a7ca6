"""serve_all: the portal, a Celery worker and the beat scheduler in one terminal (make run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the portal with a Celery worker and beat; Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-celery", action="store_true", help="Serve the portal only.")

    def handle(self, *args, **opts):
        py = sys.executable
        commands = [[py, "manage.py", "runserver", f"{opts['host']}:{opts['port']}", "--noreload"]]
        if not opts["no_celery"]:
            call_command("sync_schedules", stdout=self.stdout)  # missing beat entries; staff edits are kept
            commands += [
                [py, "-m", "celery", "-A", "icdev", "worker", "--pool=solo", "--loglevel=INFO", "-n", "icdev@%h"],
                [py, "-m", "celery", "-A", "icdev", "beat", "--loglevel=INFO", "--pidfile="],
            ]
        procs = [subprocess.Popen(cmd) for cmd in commands]  # noqa: S603 - our own interpreter and fixed argv
        self.stdout.write(f"Portal: http://{opts['host']}:{opts['port']}/  (admin at /admin/, API at /api/docs/)")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        parent = os.getppid()  # if whoever started us (make) dies, stop the children too
        try:
            while not stopping and os.getppid() == parent and all(p.poll() is None for p in procs):
                time.sleep(0.5)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        failed = [p.args for p in procs if p.returncode not in (0, -signal.SIGTERM, None) and not stopping]
        if failed:
            self.stderr.write(f"A process stopped unexpectedly: {' '.join(failed[0])}")
            sys.exit(1)
