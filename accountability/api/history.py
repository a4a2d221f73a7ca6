"""simple-history rows as API data: who changed what, when, and why."""

from __future__ import annotations

from accountability.services._common import jsonable

TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def history_rows(records) -> list[dict]:
    """Serialise history records (newest first) with the fields each one changed."""
    records = list(records)
    rows = []
    for i, rec in enumerate(records):
        older = records[i + 1] if i + 1 < len(records) else None
        changes = {}
        if older is not None and rec.history_type == "~":
            delta = rec.diff_against(older)
            changes = {c.field: [jsonable(c.old), jsonable(c.new)] for c in delta.changes}
        rows.append(
            {
                "history_id": rec.history_id,
                "at": rec.history_date.isoformat(),
                "type": TYPES.get(rec.history_type, rec.history_type),
                "user": rec.history_user.get_username() if rec.history_user else None,
                "reason": rec.history_change_reason or "",
                "changes": changes,
            }
        )
    return rows
