"""Verify an export directory written by ``manage.py ledger_export`` (no Django needed)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from .formats import TILE_WIDTH, decode_bundle, tile_path
from .model_signatures import check_entries, load_model_keys
from .note import NoteError, Verifier, open_checkpoint
from .verifier import LogVerifier, Report


class ExportError(Exception):
    """The export is unreadable or its latest checkpoint is not trusted."""


def _read(root: Path, rel: str) -> bytes | None:
    path = root / rel
    return path.read_bytes() if path.is_file() else None


def load_keys(root: Path) -> list[Verifier]:
    """The public keys shipped in an export (trust them only if nothing better is at hand)."""
    data = _read(root, "keys.txt") or b""
    return [Verifier.parse(line) for line in data.decode().splitlines() if line.strip()]


def _payloads(root: Path, bundle: int) -> dict[int, tuple[bytes, bytes]]:
    """The exported payloads of an entry bundle: (payload, salt) by seq."""
    payloads = {}
    for line in (_read(root, f"payload/{bundle}.jsonl") or b"").decode().splitlines():
        item = json.loads(line)
        payloads[item["seq"]] = (base64.b64decode(item["payload"]), base64.b64decode(item["salt"]))
    return payloads


def verify_export(
    directory: str | Path,
    verifiers: list[Verifier],
    *,
    trusted_checkpoints: list[str] = (),
    progress=None,
    model_signatures: bool = False,
) -> Report:
    """Re-verify every entry bundle, payload, tile and checkpoint in the export against ``verifiers``;
    ``trusted_checkpoints`` are notes the auditor kept from earlier (they catch a rewritten history).
    ``model_signatures``: also check the entries' model signatures against ``model_keys.json``, in a
    pass of its own after the log."""
    root = Path(directory)
    manifest_raw = _read(root, "manifest.json")
    latest = _read(root, "checkpoint")
    if manifest_raw is None or latest is None:
        raise ExportError(f"{root} is not a ledger export (manifest.json or checkpoint missing)")
    manifest = json.loads(manifest_raw)
    origin = manifest["origin"]
    try:
        head = open_checkpoint(latest.decode(), verifiers, origin)
    except NoteError as exc:
        raise ExportError(f"the export's latest checkpoint does not verify: {exc}") from exc
    checkpoints: dict[int, list[str]] = {}
    cp_dir = root / "checkpoints"
    for path in sorted(cp_dir.iterdir()) if cp_dir.is_dir() else []:
        if path.name.isdigit():
            checkpoints.setdefault(int(path.name), []).append(path.read_text())
    for note in trusted_checkpoints:
        size = int(note.split("\n")[1]) if note.count("\n") >= 2 and note.split("\n")[1].isdigit() else -1
        checkpoints.setdefault(size, []).append(note)
    withheld = [(a, b) for a, b in manifest.get("withheld_seq_ranges", [])]
    model_keys = None
    if model_signatures:  # read first: a missing or broken file stops the run before the long part
        try:
            model_keys = load_model_keys(root)
        except ValueError as exc:
            raise ExportError(f"cannot check model signatures: {exc}") from exc

    def is_withheld(seq: int) -> bool:
        return any(a <= seq <= b for a, b in withheld)

    def tile_fn(level: int, index: int):
        data = _read(root, tile_path(level, index))
        return None if data is None else (data, None)

    verifier = LogVerifier(
        origin=origin, verifiers=verifiers, checkpoints=checkpoints, tile_fn=tile_fn, withheld=is_withheld
    )
    size = head.size
    for bundle in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - bundle * TILE_WIDTH)
        data = _read(root, tile_path("entries", bundle, width))
        if data is None:
            verifier.problem(bundle * TILE_WIDTH, "missing_entry", f"entry bundle {bundle} is missing")
            break
        leaves = decode_bundle(data)
        payloads = _payloads(root, bundle)
        for offset, leaf in enumerate(leaves):
            seq = bundle * TILE_WIDTH + offset
            payload, salt = payloads.get(seq, (None, None))
            verifier.feed(seq, leaf, payload, salt)
        if progress is not None:
            progress(min((bundle + 1) * TILE_WIDTH, size), size)
    checked = None
    if model_keys is not None:
        entries = (
            (seq, payload)
            for bundle in range((size + TILE_WIDTH - 1) // TILE_WIDTH)
            for seq, (payload, _) in sorted(_payloads(root, bundle).items())
            if seq < size
        )
        checked = check_entries(verifier, entries, model_keys)
    report = verifier.finish(head=(head.size, head.root))
    report.model_signatures = checked
    return report
