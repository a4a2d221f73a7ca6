"""Model key endpoints: list, register, read and revoke the Ed25519 keys AI models sign records with.
Views parse input, call one service or selector, and serialise the result."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability.api.pagination import DefaultPagination
from accountability.exceptions import ValidationFailed
from accountability.selectors import registry as reg

from ..offline import signing
from ..selectors.model_keys import model_key_get, model_keys_list
from ..services import model_keys as svc


class ModelKeySerializer(serializers.Serializer):
    project = serializers.CharField(source="project.key")
    model_id = serializers.CharField()
    kid = serializers.CharField()
    alg = serializers.SerializerMethodField()
    public_key = serializers.CharField(help_text="The raw Ed25519 public key, standard base64.")
    active = serializers.SerializerMethodField()
    reason = serializers.CharField()
    registered_by = serializers.SerializerMethodField()
    registered_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_by = serializers.SerializerMethodField()
    revoke_reason = serializers.CharField()

    def get_alg(self, obj) -> str:
        return signing.ALG

    def get_active(self, obj) -> bool:
        return obj.revoked_at is None

    def get_registered_by(self, obj) -> str | None:
        return obj.registered_by.get_username() if obj.registered_by else None

    def get_revoked_by(self, obj) -> str | None:
        return obj.revoked_by.get_username() if obj.revoked_by else None


class ModelKeyInputSerializer(serializers.Serializer):
    project = serializers.CharField(max_length=50)
    model_id = serializers.CharField(max_length=200)
    # Longer than a key's 44 characters, so the service can say what is wrong with it.
    public_key = serializers.CharField(max_length=200, help_text="The raw Ed25519 public key (32 bytes), base64.")
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ModelKeyRevokeSerializer(serializers.Serializer):
    # Required by the service, which says so after checking who may revoke.
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


def _valid(serializer_class, request) -> dict:
    ser = serializer_class(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


def _active(request) -> bool | None:
    raw = request.query_params.get("active", "")
    if raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed({"active": ["true (unrevoked keys) or false (revoked keys)."]})


class ModelKeyListView(generics.GenericAPIView):
    """GET the model keys of the projects whose ledger you may read, a page at a time; POST registers an
    AI model's Ed25519 public key in a project (CAIO or governance staff)."""

    serializer_class = ModelKeySerializer
    pagination_class = DefaultPagination
    filter_backends = ()  # the filters are the selector's, below

    @extend_schema(
        operation_id="ledger_model_keys_list",
        parameters=[
            OpenApiParameter("project", str),
            OpenApiParameter("model_id", str),
            OpenApiParameter("active", bool, description="true: unrevoked keys; false: revoked keys."),
        ],
        responses={200: ModelKeySerializer(many=True)},
    )
    def get(self, request):
        qs = model_keys_list(
            request.user,
            project=request.query_params.get("project") or None,
            model_id=request.query_params.get("model_id") or None,
            active=_active(request),
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ModelKeySerializer(page, many=True).data)

    @extend_schema(
        operation_id="ledger_model_keys_register",
        request=ModelKeyInputSerializer,
        responses={201: ModelKeySerializer},
    )
    def post(self, request):
        data = _valid(ModelKeyInputSerializer, request)
        project = reg.project_get(request.user, data.pop("project"))
        key = svc.model_key_register(actor=request.user, project=project, **data)
        return Response(ModelKeySerializer(key).data, status=status.HTTP_201_CREATED)


class ModelKeyDetailView(APIView):
    """One model key of a project, by its kid."""

    @extend_schema(operation_id="ledger_model_key_retrieve", responses={200: ModelKeySerializer})
    def get(self, request, project, kid):
        return Response(ModelKeySerializer(model_key_get(request.user, project, kid)).data)


class ModelKeyRevokeView(APIView):
    """Revoke a model key, saying why (CAIO or governance staff); it is never registered again."""

    @extend_schema(
        operation_id="ledger_model_key_revoke",
        request=ModelKeyRevokeSerializer,
        responses={200: ModelKeySerializer},
    )
    def post(self, request, project, kid):
        key = model_key_get(request.user, project, kid)
        data = _valid(ModelKeyRevokeSerializer, request)
        return Response(ModelKeySerializer(svc.model_key_revoke(actor=request.user, key=key, **data)).data)
