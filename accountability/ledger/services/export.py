"""``ledger_export DIR``: everything an outside auditor needs to verify the ledger offline, laid out
like c2sp.org/tlog-tiles: hash tiles, entry bundles (leaf bytes), every signed checkpoint, the public
keys, the payloads (with their salts) of the entries the exporting user may read and that are
not purged, and the model keys of the same projects (``model_keys.json``, for
``verify --model-signatures``). ``python -m accountability.ledger.offline verify DIR`` checks it without Django."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from django.utils import timezone

from accountability.actors import actor_label
from accountability.exceptions import NotFound, ValidationFailed

from .. import keys
from ..models import Checkpoint, LedgerEntry, LedgerTile, ModelKey, SigningKey
from ..offline.formats import FORMAT_VERSION, TILE_WIDTH, encode_bundle, format_time, tile_path
from ..offline.model_signatures import MODEL_KEYS_FILE
from ..selectors._scope import require_reader
from .integration import integrate_pending

MANIFEST = "manifest.json"


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def ledger_export(*, actor, directory: str | Path) -> dict:
    """Write an offline-verifiable export of the log up to the latest checkpoint into an empty
    directory; payloads of projects the actor cannot read are withheld (and listed as such)."""
    projects = require_reader(actor)
    root = Path(directory)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ValidationFailed({"directory": [f"{root} exists and is not an empty directory."]})
    # Sequence what is queued (purge records above all) and sign the head, so the export is current.
    integrate_pending()
    latest = Checkpoint.objects.order_by("-tree_size").first()
    if latest is None:
        raise NotFound("No checkpoint has been signed yet; nothing can be exported.")
    size = latest.tree_size
    root.mkdir(parents=True, exist_ok=True)
    withheld: list[list[int]] = []
    exported = purged = 0
    for bundle in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        lo, hi = bundle * TILE_WIDTH, min((bundle + 1) * TILE_WIDTH, size)
        rows = LedgerEntry.objects.filter(seq__gte=lo, seq__lt=hi).order_by("seq")
        rows = rows.values_list("seq", "leaf_bytes", "payload", "payload_salt", "project_key")
        leaves, payload_lines = [], []
        for seq, leaf, payload, salt, project_key in rows:
            leaves.append(bytes(leaf))
            if payload is None:
                purged += 1
            elif projects is None or project_key == "" or project_key in projects:
                exported += 1
                payload_lines.append(
                    json.dumps(
                        {
                            "seq": seq,
                            "salt": base64.b64encode(bytes(salt)).decode(),
                            "payload": base64.b64encode(bytes(payload)).decode(),
                        }
                    )
                )
            elif withheld and withheld[-1][1] == seq - 1:
                withheld[-1][1] = seq
            else:
                withheld.append([seq, seq])
        _write(root, tile_path("entries", bundle, hi - lo), encode_bundle(leaves))
        if payload_lines:
            _write(root, f"payload/{bundle}.jsonl", ("\n".join(payload_lines) + "\n").encode())
    tiles = 0
    for level, index, hashes in LedgerTile.objects.order_by("level", "index").values_list("level", "index", "hashes"):
        if (index + 1) * TILE_WIDTH << (8 * level) <= size:
            _write(root, tile_path(level, index), bytes(hashes))
            tiles += 1
    checkpoints = 0
    for cp_size, note in Checkpoint.objects.filter(tree_size__lte=size).values_list("tree_size", "note"):
        _write(root, f"checkpoints/{cp_size}", note.encode())
        checkpoints += 1
    _write(root, "checkpoint", latest.note.encode())
    vkeys = sorted(set(SigningKey.objects.values_list("vkey", flat=True)) | {v.vkey for v in keys.trusted_verifiers()})
    _write(root, "keys.txt", ("\n".join(vkeys) + "\n").encode())
    model_keys = _model_keys(projects)
    _write(root, MODEL_KEYS_FILE, (json.dumps(model_keys, indent=2) + "\n").encode())
    manifest = {
        "format": f"icdev-ai-ledger-export/v{FORMAT_VERSION}",
        "origin": keys.origin(),
        "size": size,
        "exported_at": timezone.now().isoformat(),
        "exported_by": actor_label(actor),
        "payloads": exported,
        "purged": purged,
        "withheld_seq_ranges": withheld,
        "tiles": tiles,
        "checkpoints": checkpoints,
        "model_keys": {"file": MODEL_KEYS_FILE, "keys": len(model_keys)},
        "verify": "python -m accountability.ledger.offline verify DIR --vkey '<vkey you trust>'",
    }
    _write(root, MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return {**manifest, "directory": str(root)}


def _model_keys(projects: set[str] | None) -> list[dict]:
    """The model keys, revoked ones included, of the projects whose payloads the export holds (the
    same scoping): what ``verify --model-signatures`` checks the entries' signatures against."""
    rows = ModelKey.objects.order_by("project__key", "model_id", "registered_at", "kid")
    if projects is not None:
        rows = rows.filter(project__key__in=projects)
    return [
        {
            "project": project,
            "model_id": model_id,
            "kid": kid,
            "public_key": public_key,
            "registered_at": format_time(registered_at),
            "revoked_at": None if revoked_at is None else format_time(revoked_at),
        }
        for project, model_id, kid, public_key, registered_at, revoked_at in rows.values_list(
            "project__key", "model_id", "kid", "public_key", "registered_at", "revoked_at"
        )
    ]
