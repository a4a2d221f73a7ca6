"""Set-based writes for the sweeps that still leave an honest trail: the rows change with one UPDATE, and
simple-history gets one historical row per changed row from one ``INSERT … SELECT`` (same columns, same
values, the sweep's actor and reason), so the admin history shows the sweep like any other change."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from django.utils.functional import Promise

from accountability.actors import actor_label, history_user


def _history_select(model: type[models.Model], *, actor, reason: str, when) -> tuple[list, list, list]:
    """The history table's columns, and what to select for each from a row of ``model`` (with params)."""
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
    return dest, src, params


def insert_history(model: type[models.Model], ids: Sequence[int], *, actor, reason: str, when) -> int:
    """Copy the current state of rows ``ids`` into the model's simple-history table in one statement."""
    if not ids:
        return 0
    qn = connection.ops.quote_name
    dest, src, params = _history_select(model, actor=actor, reason=reason, when=when)
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (
        f"INSERT INTO {qn(model.history.model._meta.db_table)} ({', '.join(dest)}) "  # noqa: S608 - quoted names
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
    if connection.vendor == "postgresql" and not any(hasattr(v, "resolve_expression") for v in values.values()):
        return _update_returning_history(model, ids, values, actor=actor, reason=reason, when=when)
    changed = model._default_manager.filter(pk__in=ids).update(**values)
    insert_history(model, ids, actor=actor, reason=reason, when=when)
    return changed


def _update_returning_history(model, ids: Sequence[int], values: dict, *, actor, reason: str, when) -> int:
    """PostgreSQL: the UPDATE and the history rows in one statement, the history copied from the updated
    rows as RETURNING gives them (no second lookup of the rows); the ids travel as one array literal
    rather than thousands of bound parameters."""
    qn = connection.ops.quote_name
    sets, set_params = [], []
    for name, value in values.items():
        field = model._meta.get_field(name)
        sets.append(f"{qn(field.column)} = %s")
        set_params.append(field.get_db_prep_save(value, connection))
    dest, src, params = _history_select(model, actor=actor, reason=reason, when=when)
    pk = model._meta.pk
    ids_literal = "{" + ",".join(str(int(i)) for i in ids) + "}"
    sql = (
        f"WITH changed AS (UPDATE {qn(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 - quoted names
        f"WHERE {qn(pk.column)} = ANY(%s::{pk.rel_db_type(connection)}[]) RETURNING *) "
        f"INSERT INTO {qn(model.history.model._meta.db_table)} ({', '.join(dest)}) SELECT {', '.join(src)} FROM changed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*set_params, ids_literal, *params])
        return cursor.rowcount


def _json_value(value):
    """JSON for what rows carry besides plain JSON types (datetimes keep their microseconds)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | Promise):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_encode = json.JSONEncoder(default=_json_value, ensure_ascii=False).encode


def insert_rows(
    model: type[models.Model], rows: Sequence[dict], *, ignore_conflicts: bool = False, returning: str | None = None
) -> list:
    """Insert new rows given as ``{attname: value}`` (the model's defaults fill the rest, ``auto_now`` fields
    get now). On PostgreSQL all of them go in one ``INSERT … SELECT FROM json_populate_recordset``: thousands
    of sweep rows cost one statement and a JSON encoding, not a model instance and Django's insert
    compiler per row. Elsewhere ``bulk_create``. ``ignore_conflicts`` skips rows a unique index refuses;
    returns the ``returning`` field of each inserted row (elsewhere: of every row given)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**row) for row in rows], ignore_conflicts=ignore_conflicts, batch_size=500
        )
        return [row.get(returning) for row in rows] if returning else []
    now = timezone.now()
    template, columns = {}, []
    for f in model._meta.concrete_fields:
        if isinstance(f, AutoFieldMixin):
            continue  # the sequence numbers the rows
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        template[f.attname] = now if auto else f.get_default()
        columns.append(f.column)
    qn = connection.ops.quote_name
    table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608 - quoted names only
        f"FROM json_populate_recordset(NULL::{table}, %s::json)"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {qn(model._meta.get_field(returning).column)}"
    # json_populate_recordset reads columns by name; attnames and columns differ only by db_column.
    renamed = {f.attname: f.column for f in model._meta.concrete_fields if f.attname != f.column}
    payload = [{**template, **row} for row in rows]
    if renamed:
        payload = [{renamed.get(k, k): v for k, v in row.items()} for row in payload]
    with connection.cursor() as cursor:
        cursor.execute(sql, [_encode(payload)])
        return [value for (value,) in cursor.fetchall()] if returning else []
