"""Project-level views: the API root (with the AGPL source offer)."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from icdev.source import source_info

COLLECTIONS = [
    "projects",
    "use-cases",
    "caio",
    "oversight-plans",
    "stakeholders",
    "obligations",
    "notifications",
    "appeals",
    "ethics-reviews",
    "tasks",
    "audit-runs",
    "check-results",
    "frameworks",
    "checks",
]


class ApiRootView(APIView):
    """The API's collections, its schema, and where the running source is offered (AGPL §13)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=dict)
    def get(self, request):
        return Response(
            {
                "collections": {name: reverse(f"{name}-list", request=request) for name in COLLECTIONS},
                "schema": reverse("api-schema", request=request),
                "docs": reverse("api-docs", request=request),
                "source": source_info(),
            }
        )
