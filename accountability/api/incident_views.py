"""Incident endpoints: log and list, the record, and every transition as a POST action."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accountability.selectors import incidents as sel
from accountability.services import incident_actions as action_svc
from accountability.services import incident_coordination as coord_svc
from accountability.services import incident_lifecycle as life_svc
from accountability.services import incidents as svc

from . import incident_filters as filters
from . import incident_serializers as s
from .serializers import ReasonSerializer
from .views import ScopedViewSet, _valid


class IncidentViewSet(mixins.ListModelMixin, ScopedViewSet):
    """AI incidents. Transitions: investigate, mitigate, resolve, close, reopen (POST)."""

    serializer_class = s.IncidentSerializer
    getter = staticmethod(sel.incident_get)
    filterset_class = filters.IncidentFilter
    search_fields = ["title", "description", "root_cause"]
    ordering_fields = ["id", "reported_at", "severity", "sla_due_at", "status"]

    def get_queryset(self):
        return sel.incident_list(self.request.user).prefetch_related("use_cases").order_by("-reported_at", "-id")

    def respond(self, incident, code=status.HTTP_200_OK):
        fresh = sel.incident_get(self.request.user, incident.public_id)
        return Response(s.IncidentDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request, pk=None):
        return self.respond(self.get_object())

    @extend_schema(request=s.IncidentCreateSerializer, responses=s.IncidentDetailSerializer)
    def create(self, request):
        """Log an incident; its SLA deadline is computed from its severity."""
        incident = svc.incident_log(actor=request.user, **_valid(s.IncidentCreateSerializer, request))
        return self.respond(incident, status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentDetailSerializer)
    def partial_update(self, request, pk=None):
        """Complete or correct the record (GV-4.3-002 fields, affected use cases and systems)."""
        data = _valid(s.IncidentUpdateSerializer, request, partial=True)
        return self.respond(svc.incident_update(actor=request.user, incident=self.get_object(), **data))

    # --- transitions ------------------------------------------------------------------------------
    @extend_schema(request=s.IncidentNoteSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        """open or mitigated -> investigating."""
        data = _valid(s.IncidentNoteSerializer, request)
        return self.respond(life_svc.incident_investigate(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=s.IncidentMitigateSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def mitigate(self, request, pk=None):
        """investigating -> mitigated (say how)."""
        data = _valid(s.IncidentMitigateSerializer, request)
        return self.respond(life_svc.incident_mitigate(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=s.IncidentResolveSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """investigating or mitigated -> resolved (root cause required)."""
        data = _valid(s.IncidentResolveSerializer, request)
        return self.respond(life_svc.incident_resolve(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=s.IncidentCloseSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """resolved -> closed (lessons learned required; no open corrective action)."""
        data = _valid(s.IncidentCloseSerializer, request)
        return self.respond(life_svc.incident_close(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=ReasonSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """resolved or closed -> investigating (reason required)."""
        data = _valid(ReasonSerializer, request)
        return self.respond(life_svc.incident_reopen(actor=request.user, incident=self.get_object(), **data))

    # --- triage and timeline --------------------------------------------------------------------------
    @extend_schema(request=s.IncidentSeveritySerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def severity(self, request, pk=None):
        """Re-triage; the SLA deadline is recomputed."""
        data = _valid(s.IncidentSeveritySerializer, request)
        return self.respond(svc.incident_change_severity(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=s.IncidentAssignSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Make a responder answerable for the incident."""
        data = _valid(s.IncidentAssignSerializer, request)
        incident = svc.incident_assign(actor=request.user, incident=self.get_object(), assignee=data["assigned_to"])
        return self.respond(incident)

    @extend_schema(request=s.IncidentTimelineNoteSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Add a note to the timeline."""
        data = _valid(s.IncidentTimelineNoteSerializer, request)
        return self.respond(svc.incident_add_note(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=s.IncidentLinkSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def links(self, request, pk=None):
        """Link an appeal, agent session, ledger entry or review to the timeline."""
        data = _valid(s.IncidentLinkSerializer, request)
        return self.respond(svc.incident_link_record(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(responses=s.IncidentEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        """Everything that happened, oldest first, with ledger entry ids."""
        events = sel.incident_timeline(request.user, self.get_object())
        return Response(s.IncidentEventSerializer(events, many=True).data)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Change history of the incident record (auditors, governance staff, CAIO)."""
        return self.history_response(self.get_object())

    # --- corrective actions ---------------------------------------------------------------------------
    @extend_schema(request=s.CorrectiveActionCreateSerializer, responses=s.CorrectiveActionSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="corrective-actions")
    def corrective_actions(self, request, pk=None):
        """GET the corrective actions; POST {description, due_date, owner|owner_name} to add one."""
        incident = self.get_object()
        if request.method == "POST":
            data = _valid(s.CorrectiveActionCreateSerializer, request)
            created = action_svc.corrective_action_add(actor=request.user, incident=incident, **data)
            return Response(s.CorrectiveActionSerializer(created).data, status=status.HTTP_201_CREATED)
        actions = sel.corrective_action_list(request.user).filter(incident=incident)
        return Response(s.CorrectiveActionSerializer(actions, many=True).data)

    @extend_schema(request=s.CorrectiveActionStatusSerializer, responses=s.CorrectiveActionSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"corrective-actions/(?P<action_id>[A-Za-z0-9_-]+)/status",
    )
    def corrective_action_status(self, request, pk=None, action_id=None):
        """Move a corrective action to another status (its owner may too)."""
        incident = self.get_object()
        item = sel.corrective_action_get(request.user, action_id)
        if item.incident_id != incident.pk:
            return Response({"detail": "No such corrective action.", "code": "not_found"}, status=404)
        data = _valid(s.CorrectiveActionStatusSerializer, request)
        updated = action_svc.corrective_action_set_status(actor=request.user, action=item, **data)
        return Response(s.CorrectiveActionSerializer(updated).data)

    # --- EU AI Act and stakeholders -------------------------------------------------------------------
    @extend_schema(request=s.IncidentEUFlagSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="eu-serious")
    def eu_serious(self, request, pk=None):
        """Flag an EU AI Act serious incident; the Art. 73 report deadline is computed."""
        data = _valid(s.IncidentEUFlagSerializer, request)
        return self.respond(coord_svc.incident_flag_eu_serious(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=ReasonSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="eu-serious/clear")
    def eu_serious_clear(self, request, pk=None):
        """Withdraw the serious-incident classification (reason required)."""
        data = _valid(ReasonSerializer, request)
        return self.respond(coord_svc.incident_clear_eu_serious(actor=request.user, incident=self.get_object(), **data))

    @extend_schema(request=s.IncidentEUNotificationSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="eu-notifications")
    def eu_notifications(self, request, pk=None):
        """Record when the provider or the authority was informed."""
        data = _valid(s.IncidentEUNotificationSerializer, request)
        incident = coord_svc.incident_record_eu_notification(actor=request.user, incident=self.get_object(), **data)
        return self.respond(incident)

    @extend_schema(request=None, responses=s.IncidentStakeholderNoticeSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="stakeholders/notify")
    def notify_stakeholders(self, request, pk=None):
        """E-mail every party of the affected use cases not informed yet."""
        sent = coord_svc.incident_notify_stakeholders(actor=request.user, incident=self.get_object())
        return Response(s.IncidentStakeholderNoticeSerializer(sent, many=True).data)

    @extend_schema(request=s.IncidentStakeholderNoticeInputSerializer, responses=s.IncidentStakeholderNoticeSerializer)
    @action(detail=True, methods=["post"], url_path=r"stakeholders/(?P<notice>[A-Za-z0-9_-]+)/notice")
    def stakeholder_notice(self, request, pk=None, notice=None):
        """Record that a party was informed another way (phone, ticket)."""
        item = sel.stakeholder_notice_get(request.user, self.get_object(), notice)
        data = _valid(s.IncidentStakeholderNoticeInputSerializer, request)
        done = coord_svc.incident_record_stakeholder_notice(actor=request.user, notice=item, **data)
        return Response(s.IncidentStakeholderNoticeSerializer(done).data)

    @extend_schema(request=s.IncidentAcknowledgementSerializer, responses=s.IncidentStakeholderNoticeSerializer)
    @action(detail=True, methods=["post"], url_path=r"stakeholders/(?P<notice>[A-Za-z0-9_-]+)/acknowledge")
    def stakeholder_acknowledge(self, request, pk=None, notice=None):
        """Record a party's acknowledgement."""
        item = sel.stakeholder_notice_get(request.user, self.get_object(), notice)
        data = _valid(s.IncidentAcknowledgementSerializer, request)
        done = coord_svc.incident_record_stakeholder_ack(actor=request.user, notice=item, **data)
        return Response(s.IncidentStakeholderNoticeSerializer(done).data)
