"""Audit endpoints: run and store an audit, read runs and results, read the live gate, and read the
framework catalogue. Roles: governance staff and the CAIO run audits (audit.run); they and auditors read
results and the gate (audit.view); the catalogue is readable by any signed-in user."""

from __future__ import annotations

import django_filters as df
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability.api.filters import ProjectKeyFilterSet
from accountability.api.views import ScopedViewSet, _valid
from accountability.exceptions import NotFound
from accountability.selectors import registry as registry_sel
from assessors import selectors as sel
from assessors import services as svc
from assessors.audit import citation_text
from assessors.catalogue import Catalogue, Check, Framework, get_catalogue
from assessors.models import AuditRun, CheckResult

from . import serializers as s


class AuditRunFilter(ProjectKeyFilterSet):
    gate_status = df.MultipleChoiceFilter(choices=AuditRun.Gate.choices)
    trigger = df.MultipleChoiceFilter(choices=AuditRun.Trigger.choices)
    evaluated_after = df.IsoDateTimeFilter(field_name="evaluated_at", lookup_expr="gte")
    evaluated_before = df.IsoDateTimeFilter(field_name="evaluated_at", lookup_expr="lt")

    class Meta:
        model = AuditRun
        fields = ["project", "gate_status", "trigger"]


class CheckResultFilter(ProjectKeyFilterSet):
    run = df.CharFilter(method="filter_run", help_text="Run id, e.g. AUD-00001.")
    check = df.CharFilter(method="filter_check", help_text="Check id or alias, e.g. M2521-GOV-01 or M25-002.")
    status = df.MultipleChoiceFilter(choices=CheckResult.Status.choices)
    severity = df.MultipleChoiceFilter(choices=CheckResult.Severity.choices)
    framework = df.CharFilter(method="filter_framework", help_text="Results crediting this framework (code or key).")

    class Meta:
        model = CheckResult
        fields = ["project", "run", "check", "status", "severity", "framework"]

    def filter_run(self, qs, name, value):
        try:
            return qs.filter(run_id=AuditRun.pk_from_public_id(value))
        except NotFound:
            return qs.none()

    def filter_check(self, qs, name, value):
        try:
            return qs.filter(check_id=get_catalogue().resolve(value).id)
        except KeyError:
            return qs.filter(check_id=value.strip().upper())  # a retired id may still have stored results

    def filter_framework(self, qs, name, value):
        try:
            code = get_catalogue().framework_code(value)
        except KeyError:
            return qs.none()
        ids = [c.id for c in get_catalogue().checks.values() if code in c.credited_frameworks]
        return qs.filter(check_id__in=ids)


class AuditView(APIView):
    """POST runs a complete (or selected) audit of a project and stores it with its ledger entry."""

    @extend_schema(request=s.AuditRequestSerializer, responses={201: s.AuditRunDetailSerializer})
    def post(self, request):
        data = _valid(s.AuditRequestSerializer, request)
        project = registry_sel.project_get(request.user, data["project"])
        run = svc.audit_run(
            actor=request.user,
            project=project,
            trigger=AuditRun.Trigger.API,
            frameworks=data["frameworks"] or None,
            check_ids=data["checks"] or None,
        )
        run = sel.audit_run_list(request.user).prefetch_related("results__project", "results__run").get(pk=run.pk)
        return Response(s.AuditRunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class GateView(APIView):
    """GET evaluates the security gate of a project now (nothing is stored; auditors may read it)."""

    @extend_schema(
        parameters=[OpenApiParameter("project", OpenApiTypes.STR, required=True, description="Project key.")],
        responses=s.GateSerializer,
    )
    def get(self, request):
        key = request.query_params.get("project", "").strip()
        if not key:
            raise ValidationError({"project": ["Give a project key, e.g. ?project=proj-101."]})
        project = registry_sel.project_get(request.user, key)
        report = svc.audit_evaluate(actor=request.user, project=project)
        gate = report.gate.as_dict()
        return Response(
            s.GateSerializer(
                {
                    "project": project.key,
                    "evaluated_at": report.evaluated_at,
                    "score": report.score,
                    "summary": report.counts,
                    **gate,
                }
            ).data
        )


class AuditRunViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Stored audit runs (history), newest first; the detail has coverage, gaps, gate and results."""

    serializer_class = s.AuditRunSerializer
    getter = staticmethod(sel.audit_run_get)
    filterset_class = AuditRunFilter
    ordering_fields = ["evaluated_at", "score", "id"]

    def get_queryset(self):
        return sel.audit_run_list(self.request.user).order_by("-evaluated_at", "-id")

    @extend_schema(responses=s.AuditRunDetailSerializer)
    def retrieve(self, request, pk=None):
        return self.out(self.get_object(), s.AuditRunDetailSerializer)


class CheckResultViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Stored check results, filterable by project, run, check (id or alias), status, severity, framework."""

    serializer_class = s.CheckResultSerializer
    filterset_class = CheckResultFilter
    ordering_fields = ["id", "severity", "status"]

    def get_queryset(self):
        return sel.check_result_list(self.request.user).order_by("-run_id", "id")


def check_data(check: Check, catalogue: Catalogue) -> dict:
    return {
        "id": check.id,
        "framework": check.framework,
        "version": check.version,
        "aliases": list(check.aliases),
        "title": check.title,
        "description": check.description,
        "citation": citation_text(check, catalogue),
        "credits": check.credits,
        "severity": check.severity,
        "applies_to": "every project"
        if check.projects == "all"
        else catalogue.frameworks[check.framework].applicability["description"],
        "effective_from": check.effective_from,
        "deprecated": check.deprecated,
        "subjects": check.subjects["label"],
        "rule": check.rule,
        "aggregate": check.aggregate,
        "remediation": check.remediation,
    }


def framework_data(fw: Framework, catalogue: Catalogue, *, detail: bool) -> dict:
    data = {**fw.as_dict(), "checks": [c.id for c in catalogue.checks.values() if c.framework == fw.code]}
    if detail:
        crediting = {}
        for check in catalogue.checks.values():
            for ref in check.credits:
                crediting.setdefault(ref, []).append(check.id)

        def tree(ids):
            return [
                {
                    "id": r.id,
                    "title": r.title,
                    "obligation": r.obligation,
                    "citation": r.citation,
                    "checks": crediting.get(r.ref, []),
                    "children": tree(r.children),
                }
                for r in (fw.requirements[i] for i in ids)
            ]

        data["requirements"] = tree([r.id for r in fw.requirements.values() if r.parent is None])
    return data


class FrameworkViewSet(viewsets.ViewSet):
    """The framework catalogue: metadata, the requirement tree with citations and crediting checks."""

    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    @extend_schema(responses=s.FrameworkSerializer(many=True))
    def list(self, request):
        catalogue = get_catalogue()
        return Response([framework_data(fw, catalogue, detail=False) for fw in catalogue.frameworks.values()])

    @extend_schema(responses=s.FrameworkDetailSerializer)
    def retrieve(self, request, pk=None):
        catalogue = get_catalogue()
        try:
            fw = catalogue.frameworks[catalogue.framework_code(pk)]
        except KeyError as exc:
            raise NotFound(f"No framework {pk!r}.") from exc
        return Response(framework_data(fw, catalogue, detail=True))


class CatalogueCheckViewSet(viewsets.ViewSet):
    """The checks of every catalogue; a check can be fetched by its id or by an alias (M25-002)."""

    lookup_value_regex = r"[A-Za-z0-9_.-]+"

    @extend_schema(
        parameters=[OpenApiParameter("framework", OpenApiTypes.STR, description="Checks crediting this framework.")],
        responses=s.CatalogueCheckSerializer(many=True),
    )
    def list(self, request):
        catalogue = get_catalogue()
        checks = catalogue.active_checks()
        if request.query_params.get("framework"):
            try:
                checks = catalogue.select([request.query_params["framework"]], None)
            except KeyError:
                checks = []
        return Response([check_data(c, catalogue) for c in checks])

    @extend_schema(responses=s.CatalogueCheckSerializer)
    def retrieve(self, request, pk=None):
        catalogue = get_catalogue()
        try:
            check = catalogue.resolve(pk)
        except KeyError as exc:
            raise NotFound(f"No check {pk!r}.") from exc
        return Response(check_data(check, catalogue))
