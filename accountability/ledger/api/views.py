"""Ledger endpoints: views parse input, call one service or selector, and serialise the result."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability.exceptions import NotFound, ValidationFailed
from accountability.selectors import registry as reg

from .. import selectors as sel
from ..schema import EntryType
from ..selectors._scope import can_read, require_reader
from ..services import entries as svc
from ..services.integration import integrate_pending
from ..store import mode
from . import serializers as s
from .paging import EntryPagination, PendingPagination


def _valid(serializer_class, request) -> dict:
    ser = serializer_class(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


def _int(request, name: str, default=None, *, lo: int = 0, hi: int = 2**62):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed({name: ["Must be an integer."]}) from None
    if not lo <= value <= hi:
        raise ValidationFailed({name: [f"Must be between {lo} and {hi}."]})
    return value


def _time(request, name: str, required: bool = False):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationFailed({name: ["This parameter is required."]})
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({name: ["An ISO 8601 date or timestamp."]}) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _project_key(request) -> str:
    key = request.query_params.get("project", "")
    if key:
        require_reader(request.user)
        if not can_read(request.user, key):
            raise NotFound(f"No project {key!r}.")
    return key


def _latest_checkpoint(request):
    require_reader(request.user)
    if mode() == "inline":
        integrate_pending()  # inline appends sign at most every 250 ms: cover the tail now
    cp = sel.checkpoint_latest()
    if cp is None:
        raise NotFound("No checkpoint has been signed yet.")
    return cp


class CheckpointView(APIView):
    """The latest signed checkpoint (C2SP signed note), with its parsed origin, size and root."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(s.checkpoint_data(_latest_checkpoint(request)))


class CheckpointNoteView(APIView):
    """The latest signed checkpoint as the plain signed note (what witnesses and tools expect)."""

    @extend_schema(responses={(200, "text/plain"): str})
    def get(self, request):
        return HttpResponse(_latest_checkpoint(request).note, content_type="text/plain; charset=utf-8")


class EntryListView(generics.GenericAPIView):
    """GET integrated entries you may read, newest first (``?status=pending``: the integrator's queue,
    oldest first), a page at a time: follow ``next`` and ``previous``; POST an AI action, decision or
    interaction."""

    serializer_class = s.EntryInputSerializer
    pagination_class = EntryPagination  # what the schema shows; pending pages use PendingPagination
    # No ?ordering= or other list filters: a cursor needs the fixed, unique order of its pagination.
    filter_backends = ()

    @extend_schema(
        parameters=[
            OpenApiParameter("entry_type", str, enum=EntryType.values),
            OpenApiParameter("actor", str, description="kind:id, e.g. model:claude-opus"),
            OpenApiParameter("project", str),
            OpenApiParameter("since", str, description="ISO 8601; occurred at or after."),
            OpenApiParameter("until", str, description="ISO 8601; occurred before."),
            OpenApiParameter(
                "status",
                str,
                enum=["integrated", "pending"],
                description="pending: the integrator's queue, oldest first; the filters apply to integrated entries.",
            ),
        ],
        operation_id="ledger_entries_list",
        responses={200: s.EntryRowSerializer(many=True)},
    )
    def get(self, request):
        state = request.query_params.get("status") or "integrated"
        if state not in ("integrated", "pending"):
            raise ValidationFailed({"status": ["integrated or pending."]})
        if state == "pending":
            return self._page(request, sel.pending_list(request.user), PendingPagination)
        entry_type = request.query_params.get("entry_type") or None
        if entry_type and entry_type not in EntryType.values:
            raise ValidationFailed({"entry_type": [f"One of: {', '.join(EntryType.values)}."]})
        qs = sel.entry_list(
            request.user,
            entry_type=entry_type,
            actor_ref=request.query_params.get("actor") or None,
            project_key=_project_key(request) or None,
            since=_time(request, "since"),
            until=_time(request, "until"),
        )
        return self._page(request, qs, EntryPagination)

    def _page(self, request, qs, pagination_class) -> Response:
        """One keyset page of ``qs`` as list rows, with ``next`` and ``previous`` cursor links (the
        query string's filters and page size carried along)."""
        paginator = pagination_class()
        rows = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([s.entry_data(e, full=False) for e in rows])

    @extend_schema(request=s.EntryInputSerializer, responses={201: s.AppendOutputSerializer})
    def post(self, request):
        data = _valid(s.EntryInputSerializer, request)
        project = reg.project_get(request.user, data.pop("project"))
        result = svc.ledger_entry_append(
            actor=request.user,
            project=project,
            entry_type=data["entry_type"],
            performer=data["actor"],
            action=data["action"],
            context=data.get("context"),
            accountability=data["accountability"],
            occurred_at=data.get("occurred_at"),
            # The model signed the record as sent, so the check reads the request's own JSON object.
            signed_record=request.data if "model_signatures" in data else None,
        )
        code = status.HTTP_201_CREATED if result.is_integrated else status.HTTP_202_ACCEPTED
        return Response(s.append_data(result), status=code)


class EntryDetailView(APIView):
    """An entry with its inclusion proof and the signed checkpoint it is proved against (``?size=`` for
    an earlier checkpoint); pending entries have no proof yet."""

    @extend_schema(
        operation_id="ledger_entry_retrieve",
        parameters=[OpenApiParameter("size", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, entry_id):
        entry = sel.entry_get(request.user, entry_id)
        size = _int(request, "size")
        proof = None
        if entry.is_integrated:
            if mode() == "inline":
                integrate_pending()
            inclusion = sel.entry_inclusion(entry, size)
            proof = inclusion.as_dict() if inclusion else None
        data = s.entry_data(entry)
        if proof is not None:
            text = proof["checkpoint"]
            data["integrity"]["checkpoint_signatures"] = text[text.rfind("\n\n") + 2 :].splitlines()
        return Response({"entry": data, "proof": proof})


class EntryExplanationView(APIView):
    """Plain-language explanation (seed: right to explanation)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, entry_id):
        return Response(sel.entry_explanation(request.user, entry_id))


class EntryResponsibilityView(APIView):
    """The responsibility chain of an entry, up its delegation chain."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, entry_id):
        return Response(sel.responsibility_chain(request.user, entry_id))


class ViolationCreateView(APIView):
    """Record a violation (seed violation record)."""

    @extend_schema(request=s.ViolationInputSerializer, responses={201: s.AppendOutputSerializer})
    def post(self, request):
        data = _valid(s.ViolationInputSerializer, request)
        project = reg.project_get(request.user, data.pop("project"))
        result = svc.violation_record(actor=request.user, project=project, **data)
        code = status.HTTP_201_CREATED if result.is_integrated else status.HTTP_202_ACCEPTED
        return Response(s.append_data(result), status=code)


class CorrectionCreateView(APIView):
    """Record a correction: a new entry linked to the one it amends (or retracts)."""

    @extend_schema(request=s.CorrectionInputSerializer, responses={201: s.AppendOutputSerializer})
    def post(self, request):
        data = _valid(s.CorrectionInputSerializer, request)
        result = svc.correction_record(actor=request.user, **data)
        code = status.HTTP_201_CREATED if result.is_integrated else status.HTTP_202_ACCEPTED
        return Response(s.append_data(result), status=code)


class ConsistencyView(APIView):
    """A consistency proof between two tree sizes (``old`` and a checkpointed ``new``)."""

    @extend_schema(
        operation_id="ledger_consistency",
        parameters=[OpenApiParameter("old", int, required=True), OpenApiParameter("new", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        require_reader(request.user)
        old = _int(request, "old")
        if old is None:
            raise ValidationFailed({"old": ["This parameter is required."]})
        return Response(sel.consistency(old, _int(request, "new")))


# The audit queries answer one bounded list, at most ``limit`` rows (default 500, at most 5000).
_AUDIT_PARAMS = [
    OpenApiParameter("project", str),
    OpenApiParameter("limit", int, description="At most this many rows: 1 to 5000, default 500."),
]
_WINDOW_PARAMS = [
    OpenApiParameter("since", str, description="ISO 8601; occurred at or after."),
    OpenApiParameter("until", str, description="ISO 8601; occurred before."),
]


def _rows(rows) -> list[dict]:
    return [s.entry_data(r, full=False) | {"document": r.document} for r in rows]


class ByModelView(APIView):
    """Audit query: all entries by a model."""

    @extend_schema(
        operation_id="ledger_audit_by_model",
        parameters=[OpenApiParameter("model_id", str, required=True), *_AUDIT_PARAMS, *_WINDOW_PARAMS],
        responses={200: s.AuditRowsSerializer},
    )
    def get(self, request):
        rows = sel.actions_by_model(
            request.user,
            request.query_params.get("model_id", ""),
            project_key=_project_key(request),
            since=_time(request, "since"),
            until=_time(request, "until"),
            limit=_int(request, "limit", 500, lo=1, hi=5000),
        )
        return Response({"count": len(rows), "truncated": rows.truncated, "results": _rows(rows)})


class TaskChainView(APIView):
    """Audit query: the decision chain of a task, in time order."""

    @extend_schema(
        operation_id="ledger_audit_task_chain",
        parameters=[OpenApiParameter("task_id", str, required=True), *_AUDIT_PARAMS],
        responses={200: s.AuditRowsSerializer},
    )
    def get(self, request):
        rows = sel.decision_chain(
            request.user,
            request.query_params.get("task_id", ""),
            project_key=_project_key(request),
            limit=_int(request, "limit", 500, lo=1, hi=5000),
        )
        return Response({"count": len(rows), "truncated": rows.truncated, "results": _rows(rows)})


class ViolationsView(APIView):
    """Audit query: violations in a time range [start, end)."""

    @extend_schema(
        operation_id="ledger_audit_violations",
        parameters=[
            OpenApiParameter("start", str, required=True),
            OpenApiParameter("end", str, required=True),
            *_AUDIT_PARAMS,
        ],
        responses={200: s.AuditRowsSerializer},
    )
    def get(self, request):
        rows = sel.violations_between(
            request.user,
            _time(request, "start", required=True),
            _time(request, "end", required=True),
            project_key=_project_key(request),
            limit=_int(request, "limit", 500, lo=1, hi=5000),
        )
        return Response({"count": len(rows), "truncated": rows.truncated, "results": _rows(rows)})


class MetricsView(APIView):
    """entries_per_day, chain_integrity, violation_rate, audit_response_time, attribution_completeness."""

    @extend_schema(
        operation_id="ledger_metrics",
        parameters=[OpenApiParameter("project", str), OpenApiParameter("days", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        days = _int(request, "days", 30, lo=1, hi=3660)
        return Response(sel.ledger_metrics(request.user, project_key=_project_key(request), days=days))
