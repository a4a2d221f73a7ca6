"""The governance models a catalogue may name, how each reaches its project, and the filter language.

Catalogues are data: a check names a model by label (``accountability.AIUseCase``) and filters it with
Django lookup dicts. Only the models listed here, their real fields and a small set of lookups are
accepted, so a catalogue cannot reach the user table, the ledger or arbitrary SQL.

Filter dicts: ``{field__lookup: value}`` are ANDed; ``$or: [dict, ...]`` and ``$not: dict`` nest;
``$complete: [field | {field, when} | {any: [fields]}]`` means "every listed field is filled in".
Values may be ``$today``, ``$now`` or ``$param.<name>`` (a parameter of the rule, with its provenance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q

# label -> the path from a row to its Project (used to restrict a query to the audited projects).
PROJECT_PATHS: dict[str, str] = {
    "accountability.Project": "pk",
    "accountability.AIUseCase": "project",
    "accountability.CAIODesignation": "project",
    "accountability.OversightPlan": "project",
    "accountability.OversightPlanVersion": "plan__project",
    "accountability.ReassessmentSchedule": "project",
    "accountability.Incident": "project",
    "accountability.Appeal": "project",
    "accountability.EthicsReview": "project",
    "accountability.ModelCard": "project",
    "accountability.VendorArtefacts": "project",
    "accountability.FairnessAssessment": "project",
    "accountability.ConfabulationCheck": "project",
    "accountability.ProvenanceRecord": "project",
    "accountability.ContentTracingPolicy": "project",
    "accountability.MonitoringPlan": "project",
    "accountability.MonitoringObservation": "project",
    "accountability.ImpactAssessment": "project",
    "accountability.Waiver": "project",
    "accountability.WaivedPractice": "waiver__project",
    "accountability.FeedbackChannel": "project",
    "accountability.FeedbackItem": "project",
    "accountability.OperatorTraining": "project",
}
ALIASES = {"project": "accountability.Project", "use_case": "accountability.AIUseCase"}
LOOKUPS = {"exact", "iexact", "in", "gt", "gte", "lt", "lte", "isnull", "startswith", "istartswith"}
VALUE_TOKENS = {"$today", "$now"}


class CatalogueError(ValueError):
    """A catalogue names an unknown model, field, lookup or parameter."""


def model_label(name: str) -> str:
    return ALIASES.get(name, name)


def resolve_model(name: str) -> type[models.Model]:
    label = model_label(name)
    if label not in PROJECT_PATHS:
        raise CatalogueError(f"unknown model {name!r} (known: {', '.join(sorted(PROJECT_PATHS))})")
    return apps.get_model(label)


def project_path(model: type[models.Model]) -> str:
    return PROJECT_PATHS[model._meta.label]


def field_at(model: type[models.Model], path: str) -> models.Field:
    """The field a ``a__b__c`` path ends on, following relations; CatalogueError when it does not exist."""
    current, field = model, None
    for part in path.split("__"):
        if current is None:
            raise CatalogueError(f"{model._meta.label}: {path!r} goes past a plain field")
        try:
            field = current._meta.get_field(part if part != "pk" else current._meta.pk.name)
        except FieldDoesNotExist as exc:
            raise CatalogueError(f"{model._meta.label} has no field {part!r} (in {path!r})") from exc
        if isinstance(field, models.JSONField):
            return field  # the rest of the path are keys inside the JSON value
        current = field.related_model if field.is_relation else None
    return field


def split_lookup(model: type[models.Model], key: str) -> tuple[str, str]:
    parts = key.split("__")
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        return "__".join(parts[:-1]), parts[-1]
    return key, "exact"


def has_join(model: type[models.Model], flt) -> bool:
    """Whether a filter crosses a to-many relation (then counts must be distinct)."""
    for key, value in _items(flt):
        if key in ("$or", "$not"):
            if any(has_join(model, sub) for sub in (value if key == "$or" else [value])):
                return True
        elif key == "$complete":
            if any(_is_to_many(field_at(model, name)) for name in _complete_fields(value)):
                return True
        else:
            path, _ = split_lookup(model, key)
            current = model
            for part in path.split("__"):
                field = field_at(current, part)
                if _is_to_many(field):
                    return True
                if not field.is_relation:
                    break
                current = field.related_model
    return False


def _is_to_many(field) -> bool:
    return bool(field.is_relation and (field.many_to_many or field.one_to_many))


def _items(flt):
    return (flt or {}).items()


def _complete_fields(entries) -> list[str]:
    names = []
    for entry in entries:
        if isinstance(entry, str):
            names.append(entry)
        elif "any" in entry:
            names.extend(entry["any"])
        else:
            names.append(entry["field"])
    return names


def validate_filter(model: type[models.Model], flt, params: set[str], where: str) -> None:
    """Raise CatalogueError for unknown fields, lookups or parameters in a filter dict."""
    if flt is None:
        return
    if not isinstance(flt, dict):
        raise CatalogueError(f"{where}: a filter is a mapping")
    for key, value in flt.items():
        if key == "$or":
            if not isinstance(value, list) or not value:
                raise CatalogueError(f"{where}: $or takes a non-empty list of filters")
            for i, sub in enumerate(value):
                validate_filter(model, sub, params, f"{where}.$or[{i}]")
        elif key == "$not":
            validate_filter(model, value, params, f"{where}.$not")
        elif key == "$complete":
            for entry in value:
                if isinstance(entry, dict) and "when" in entry:
                    validate_filter(model, entry["when"], params, f"{where}.$complete.when")
            for name in _complete_fields(value):
                field_at(model, name)
        elif key.startswith("$"):
            raise CatalogueError(f"{where}: unknown operator {key!r}")
        else:
            path, _lookup = split_lookup(model, key)
            try:
                field_at(model, path)
            except CatalogueError as exc:
                raise CatalogueError(f"{where}: {exc}") from exc
            _validate_value(value, params, f"{where}.{key}")


def _validate_value(value, params: set[str], where: str) -> None:
    if isinstance(value, list):
        for item in value:
            _validate_value(item, params, where)
    elif isinstance(value, str) and value.startswith("$"):
        if value in VALUE_TOKENS:
            return
        if value.startswith("$param.") and value.removeprefix("$param.") in params:
            return
        raise CatalogueError(f"{where}: unknown value {value!r} (use $today, $now or $param.<a parameter>)")


@dataclass(frozen=True)
class Values:
    """What ``$today``, ``$now`` and ``$param.x`` stand for when a filter is compiled."""

    today: dt.date
    now: dt.datetime
    param: Callable[[str], object]

    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if value == "$today":
            return self.today
        if value == "$now":
            return self.now
        if isinstance(value, str) and value.startswith("$param."):
            return self.param(value.removeprefix("$param."))
        return value


def compile_filter(model: type[models.Model], flt, values: Values) -> Q:
    """A filter dict as a Q object (validated at load, so names are known here)."""
    q = Q()
    for key, value in _items(flt):
        if key == "$or":
            alt = Q()
            for sub in value:
                alt |= compile_filter(model, sub, values)
            q &= alt
        elif key == "$not":
            q &= ~compile_filter(model, value, values)
        elif key == "$complete":
            q &= _complete(model, value, values)
        else:
            q &= Q(**{key: values.resolve(value)})
    return q


def filled(model: type[models.Model], name: str) -> Q:
    """Q of rows whose field ``name`` is filled in (not null, not blank, not an empty list or mapping)."""
    field = field_at(model, name)
    if _is_to_many(field):
        return Q(**{f"{name}__isnull": False})
    q = Q(**{f"{name}__isnull": False}) if field.null or field.is_relation else Q()
    if isinstance(field, models.JSONField):
        return q & ~Q(**{name: []}) & ~Q(**{name: {}})
    if isinstance(field, models.CharField | models.TextField):
        return q & ~Q(**{name: ""})
    return q


def _complete(model, entries, values: Values) -> Q:
    q = Q()
    for entry in entries:
        if isinstance(entry, str):
            q &= filled(model, entry)
        elif "any" in entry:
            alt = Q()
            for name in entry["any"]:
                alt |= filled(model, name)
            q &= alt
        else:
            cond = filled(model, entry["field"])
            if "when" in entry:
                cond = ~compile_filter(model, entry["when"], values) | cond
            q &= cond
    return q


def flat(model, flt, values: Values, project_ids) -> Q:
    """A filter compiled so that only the parts crossing a to-many relation become ``pk IN (subquery)``
    over the audited projects' rows: it can then share a grouped query (or the subject query) with other
    columns without duplicating rows. Uncorrelated, so PostgreSQL hashes it once instead of probing it per
    row; the plain columns stay outside the subquery so it never rescans the table to test them."""
    if not flt or not has_join(model, flt):
        return _scoped(model, flt, values, project_ids)
    local = {k: v for k, v in flt.items() if not has_join(model, {k: v})}
    joined = {k: v for k, v in flt.items() if k not in local}
    q = _scoped(model, local, values, project_ids)
    # EXISTS r: (L(x) AND J(x, r)) is L(x) AND EXISTS r: J(x, r), and EXISTS r: (A(x) OR B(x, r)) is
    # A(x) OR EXISTS r: B(x, r); joined parts ANDed together stay in one subquery (same related row).
    if list(joined) == ["$or"]:
        alternatives = joined["$or"]
        alt = Q()
        for sub in alternatives:
            if not has_join(model, sub):
                alt |= compile_filter(model, sub, values)
        alt |= _exists(model, {"$or": [s for s in alternatives if has_join(model, s)]}, values, project_ids)
        return q & alt
    if list(joined) == ["$complete"]:
        entries = joined["$complete"]
        crossing = []
        for entry in entries:
            if has_join(model, {"$complete": [entry]}):
                crossing.append(entry)
            else:
                q &= _complete(model, [entry], values)
        if len(crossing) == 1 and isinstance(crossing[0], dict) and "any" in crossing[0]:
            names = crossing[0]["any"]
            alt = Q()
            for name in names:
                if not _is_to_many(field_at(model, name)):
                    alt |= filled(model, name)
            to_many = [n for n in names if _is_to_many(field_at(model, n))]
            entry = {"any": to_many} if len(to_many) > 1 else to_many[0]
            return q & (alt | _exists(model, {"$complete": [entry]}, values, project_ids))
        return q & _exists(model, {"$complete": crossing}, values, project_ids)
    return q & _exists(model, joined, values, project_ids)


def _scoped(model, flt, values: Values, project_ids) -> Q:
    """``compile_filter``, except that when the audit is limited to some projects a positive test on the
    row a foreign key points at, in another project-scoped model (``plan__status: active``), becomes
    ``plan IN (the matching rows of those projects)``: a join would make PostgreSQL hash every project's
    rows for one project's few (the services give a row and what it points at the same project)."""
    if project_ids is None or not flt:
        return compile_filter(model, flt, values)
    plain, through = {}, Q()
    for key, value in flt.items():
        scoped = None if key.startswith("$") else _through_foreign_key(model, key, value, values, project_ids)
        if scoped is None:
            plain[key] = value
        else:
            through &= scoped
    return compile_filter(model, plain, values) & through


def _through_foreign_key(model, key: str, value, values: Values, project_ids) -> Q | None:
    """``fk IN (…)`` for ``{fk__field…: value}`` (fk to a project-scoped model, the test positive); None
    for anything else."""
    name, _, rest = key.partition("__")
    field = field_at(model, name)
    if not isinstance(field, models.ForeignKey) or not rest or rest.endswith("isnull"):
        return None
    related = field.related_model
    if PROJECT_PATHS.get(related._meta.label, "pk") == "pk":
        return None
    value = values.resolve(value)
    if value is None:  # an outer-join test: left as it is
        return None
    inner = related._base_manager.filter(**{rest: value, f"{project_path(related)}__in": project_ids})
    return Q(**{f"{name}__in": inner.values("pk")})


def _exists(model, flt: dict, values: Values, project_ids) -> Q:
    """``pk IN (…)`` of the rows matching a filter that crosses a to-many relation; a single positive test
    on the related rows reads only the related table (or the link table), never the model's own."""
    related = _related_ids(model, flt, values, project_ids)
    if related is not None:
        return Q(pk__in=related)
    inner = model.objects.filter(compile_filter(model, flt, values))
    if project_ids is not None:
        inner = inner.filter(**{f"{project_path(model)}__in": project_ids})
    return Q(pk__in=inner.values("pk"))


def _related_ids(model, flt: dict, values: Values, project_ids):
    """For ``{rel__…: v}`` or ``$complete: [rel]`` (rel to-many, the test positive): the model's ids
    read from the related (or link) table, restricted to the audited projects; None for anything else."""
    if list(flt) == ["$complete"] and len(flt["$complete"]) == 1 and isinstance(flt["$complete"][0], str):
        key, value = f"{flt['$complete'][0]}__isnull", False
    elif len(flt) == 1 and not next(iter(flt)).startswith("$"):
        key, value = next(iter(flt.items()))
    else:
        return None
    name, _, rest = key.partition("__")
    field, value = field_at(model, name), values.resolve(value)
    # A test a missing related row could pass (isnull=True, = None) needs the outer join: not here.
    if not _is_to_many(field) or not rest or value is None or (rest.endswith("isnull") and value is not False):
        return None
    if field.many_to_many:
        if field.auto_created:  # reverse side of a many-to-many: the link table seen from the other end
            link, source, target = field.through, field.field.m2m_reverse_field_name(), field.field.m2m_field_name()
        else:
            link, source, target = field.remote_field.through, field.m2m_field_name(), field.m2m_reverse_field_name()
        lookups = {f"{source}__isnull": False} if rest == "isnull" else {f"{target}__{rest}": value}
    else:  # reverse foreign key: the related rows point at the model
        link, source = field.related_model, field.field.name
        lookups = {f"{source}__isnull": False} if rest == "isnull" else {rest: value}
    qs = link._default_manager.filter(**lookups)
    if project_ids is not None:
        qs = qs.filter(**{f"{source}__{project_path(model)}__in": project_ids})
    return qs.values(source)
