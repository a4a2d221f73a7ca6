"""Set-based data access for the engine: grouped aggregate queries shared by every check, the subject
rows of each check, and capped samples of the rows behind a failure.

One audit runs one grouped query per (model, link) that any check reads, one query per subject model,
and at most one sample query per rule that found something to show, so the number of queries is
bounded by the catalogue, never by the number of rows or projects. The grouped and subject queries are
handed to the engine as requests (``pending``) so that they travel together with the evaluators' own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, F, Q, Window
from django.db.models.functions import RowNumber

from . import sqlcache
from .modelspec import project_path

SAMPLE_SIZE = 5  # related rows shown per failing subject


def restrict(qs, model, project_ids):
    """Limit a queryset to the audited projects (None: every project)."""
    if project_ids is None:
        return qs
    return qs.filter(**{f"{project_path(model)}__in": project_ids})


class CachedScope:
    """How shared queries are compiled and cached: the key prefix of this audit's plan (None: no reuse),
    and the project restriction with its sentinel."""

    def __init__(self, project_ids, prefix: tuple | None):
        self.project_ids = project_ids
        single = project_ids is not None and len(project_ids) == 1
        cacheable = prefix is not None and (single or project_ids is None)
        # One project (its id bound at execution) and every project (no restriction) compile differently.
        self.prefix = (*prefix, "one" if single else "all") if cacheable else None
        self.build_ids = [sqlcache.SENTINEL_PROJECT] if self.prefix and single else project_ids
        self.subs = {sqlcache.SENTINEL_PROJECT: project_ids[0]} if self.prefix and single else None

    def rows(self, key: tuple, build) -> list[dict]:
        return sqlcache.rows(None if self.prefix is None else (*self.prefix, *key), build, self.subs)

    def run_all(self, requests: list[tuple]) -> None:
        """Run (key, build, receive) requests together (one round trip on PostgreSQL); ``receive`` takes
        each one's rows."""
        keyed = [(None if self.prefix is None else (*self.prefix, *key), build) for key, build, _r in requests]
        for (_key, _build, receive), found in zip(requests, sqlcache.rows_many(keyed, self.subs), strict=True):
            receive(found)


class Batch:
    """Grouped conditional aggregates: each check adds annotations; each group runs as one query."""

    def __init__(self, project_ids):
        self.project_ids = project_ids
        self.groups: dict[tuple, dict] = {}
        self.results: dict[tuple, dict] = {}
        self.queries = 0
        self.scope = CachedScope(project_ids, None)

    def aggregate(self, model, link: str, expr) -> tuple:
        """Register an aggregate over ``model`` grouped by ``link``; returns a handle for ``get``.
        Filters that cross a to-many relation arrive as ``pk IN (subquery)`` so groups never fan out."""
        key = (model, link)
        columns = self.groups.setdefault(key, {})
        for name, existing in columns.items():
            if existing == expr:  # identical requests (same model, filter, aggregate) share a column
                return key, name
        name = f"a{len(columns)}"
        columns[name] = expr
        return key, name

    def run(self) -> None:
        self.scope.run_all(self.pending())

    def pending(self) -> list[tuple]:
        """(key, build, receive) of each group not fetched yet."""
        requests = []
        for key, columns in self.groups.items():
            if key in self.results:
                continue
            model, link = key
            ids = self.scope.build_ids

            def build(model=model, link=link, columns=columns, ids=ids):
                return restrict(model.objects.all(), model, ids).order_by().values(link).annotate(**columns)

            def receive(rows, key=key, link=link):
                self.results[key] = {row[link]: row for row in rows}
                self.queries += 1

            requests.append((("batch", model._meta.label, link, tuple(columns)), build, receive))
        return requests

    def get(self, handle: tuple, group_value, default=None):
        key, name = handle
        row = self.results[key].get(group_value)
        return default if row is None else row[name]


@dataclass
class SubjectModel:
    """Everything the checks need from one subject model: fields and boolean flags, in one query."""

    model: type
    fields: set[str] = field(default_factory=set)
    flags: dict[str, Q] = field(default_factory=dict)
    rows: list[dict] | None = None


class SubjectStore:
    """Subject rows per model, one query each: the columns and boolean flags every check needs."""

    def __init__(self, project_ids):
        self.project_ids = project_ids
        self.models: dict[type, SubjectModel] = {}
        self.queries = 0
        self.scope = CachedScope(project_ids, None)

    def _entry(self, model) -> SubjectModel:
        return self.models.setdefault(model, SubjectModel(model))

    def need_fields(self, model, *names: str) -> None:
        self._entry(model).fields.update(n for n in names if n and n != "pk")

    def flag(self, model, q: Q) -> str:
        entry = self._entry(model)
        for name, existing in entry.flags.items():
            if existing == q:
                return name
        name = f"f{len(entry.flags)}"
        entry.flags[name] = q
        return name

    def run(self) -> None:
        self.scope.run_all(self.pending())

    def pending(self) -> list[tuple]:
        """(key, build, receive) of each subject model not fetched yet."""
        requests = []
        for entry in self.models.values():
            if entry.rows is not None:
                continue
            model, fields, ids = entry.model, sorted(entry.fields), self.scope.build_ids

            def build(model=model, fields=fields, ids=ids, flags=entry.flags):
                qs = restrict(model.objects.all(), model, ids).order_by("pk")
                exprs = {name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in flags.items()}
                return qs.values("pk", *fields, project_ref=F(project_path(model)), **exprs)

            def receive(rows, entry=entry):
                entry.rows = rows
                self.queries += 1

            key = ("subjects", model._meta.label, tuple(fields), tuple(entry.flags))
            requests.append((key, build, receive))
        return requests

    def rows(self, model) -> list[dict]:
        return self._entry(model).rows or []


def sample(scope: CachedScope, key: tuple, model, link: str, q: Q, order_by: list[str], keys: set) -> dict:
    """Up to SAMPLE_SIZE pks of rows matching ``q`` per value of ``link`` (kept for the given keys).
    For one project the query is the same every time (compiled once); across many projects a short
    key list narrows the scan."""

    def build(ids):
        qs = restrict(model.objects.filter(q), model, ids)
        if scope.subs is None and len(keys) <= 1000:
            qs = qs.filter(**{f"{link}__in": keys})
        ranked = qs.annotate(_rank=Window(RowNumber(), partition_by=[F(link)], order_by=order_by))
        return ranked.filter(_rank__lte=SAMPLE_SIZE).values(link, "pk")

    cached_key = key if scope.subs is not None else None
    found = defaultdict(list)
    for row in sqlcache.rows(
        None if cached_key is None or scope.prefix is None else (*scope.prefix, *cached_key),
        lambda: build(scope.build_ids),
        scope.subs,
    ):
        if row[link] in keys:
            found[row[link]].append(row["pk"])
    return found
