"""AGPL-3.0 §13: offer every network user the corresponding source of the running version.

Every response carries a ``Link: <…>; rel="source"`` header and the commit; every page shows a
"Source" link (context processor); ``/source/`` serves a tarball of the running tree.
"""

import functools
import io
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse

LICENSE_ID = "AGPL-3.0-or-later"
_EXCLUDED_PARTS = {".venv", "var", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"}


@functools.cache
def source_commit() -> str:
    """The commit of the running tree (from ICDEV_SOURCE_COMMIT, else git), or 'unknown'."""
    if settings.ICDEV_SOURCE_COMMIT:
        return settings.ICDEV_SOURCE_COMMIT
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def source_info() -> dict:
    """What the API and pages show about the running source."""
    return {"url": settings.ICDEV_SOURCE_URL, "commit": source_commit(), "license": LICENSE_ID}


def _tracked_files(base: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=base,
            capture_output=True,
            timeout=10,
            check=True,
        )
        return [base / p for p in out.stdout.decode().split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        return [p for p in base.rglob("*") if p.is_file() and not _EXCLUDED_PARTS & set(p.parts)]


@functools.cache
def _source_tarball() -> bytes:
    base = Path(settings.BASE_DIR)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(_tracked_files(base)):
            if path.is_file():
                tar.add(path, arcname=f"icdev/{path.relative_to(base)}")
    return buf.getvalue()


def source_download(request):
    """Serve the running tree (the files on disk, local changes included) as a tar.gz."""
    response = HttpResponse(_source_tarball(), content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="icdev-{source_commit()[:12]}.tar.gz"'
    return response


def source_context(request):
    """Template context: the source link shown in every page footer."""
    return {"icdev_source": source_info()}


class SourceLinkMiddleware:
    """Adds the source link and commit to every HTTP response (pages and API alike)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        info = source_info()
        response["Link"] = f'<{info["url"]}>; rel="source"'
        response["X-Source-Commit"] = info["commit"]
        response["X-License"] = LICENSE_ID
        return response
