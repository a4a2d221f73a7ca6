"""Set-based writes for the sweeps that still leave an honest trail: the rows change with one UPDATE, and
simple-history gets one historical row per changed row from one ``INSERT … SELECT`` (same columns, same
values, the sweep's actor and reason), so the admin history shows the sweep like any other change."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

from accountability.actors import actor_label, history_user


def insert_history(model: type[models.Model], ids: Sequence[int], *, actor, reason: str, when) -> int:
    """Copy the current state of rows ``ids`` into the model's simple-history table in one statement."""
    if not ids:
        return 0
    historical = model.history.model
    qn = connection.ops.quote_name
    dest, src, params = [], [], []
    for f in historical._meta.concrete_fields:
        if f.name == "history_id":
            continue
        dest.append(qn(f.column))
        if f.name == "history_date":
            src.append("%s")
            params.append(when)
        elif f.name == "history_change_reason":
            src.append("%s")
            params.append(f"{reason} (by {actor_label(actor)})"[:100])
        elif f.name == "history_type":
            src.append("%s")
            params.append("~")
        elif f.name == "history_user":
            user = history_user(actor)
            src.append("%s")
            params.append(user.pk if user is not None else None)
        else:
            src.append(qn(model._meta.get_field(f.name).column))
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (
        f"INSERT INTO {qn(historical._meta.db_table)} ({', '.join(dest)}) "  # noqa: S608 - quoted names only
        f"SELECT {', '.join(src)} FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids])
        return cursor.rowcount


def update_with_history(
    model: type[models.Model], ids: Sequence[int], values: dict, *, actor, reason: str, when
) -> int:
    """UPDATE rows ``ids`` set-based and write their history rows; returns the number of rows changed."""
    # ``values`` must include ``updated_at`` where the model has one: update() skips auto_now.
    if not ids:
        return 0
    changed = model._default_manager.filter(pk__in=ids).update(**values)
    insert_history(model, ids, actor=actor, reason=reason, when=when)
    return changed
