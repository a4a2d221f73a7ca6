"""URL map: admin, portal, REST API (with OpenAPI and Swagger UI) and the AGPL source download."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from icdev.source import source_download
from icdev.views import ApiRootView

admin.site.site_header = "icdev · AI accountability"
admin.site.site_title = "icdev admin"
admin.site.index_title = "Governance"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/ai-accountability/", ApiRootView.as_view(), name="api-root"),
    path("api/v1/ai-accountability/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/ai-accountability/", include("accountability.api.urls")),
    path("api/v1/ai-accountability/", include("assessors.api.urls")),  # audit, gate, runs, catalogue
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("portal/", include("accountability.portal.urls")),
    path("source/", source_download, name="source"),
]
