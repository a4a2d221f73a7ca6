"""Routes of the assessors under /api/v1/ai-accountability/."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash="/?")
router.register("audit-runs", views.AuditRunViewSet, basename="audit-runs")
router.register("check-results", views.CheckResultViewSet, basename="check-results")
router.register("frameworks", views.FrameworkViewSet, basename="frameworks")
router.register("checks", views.CatalogueCheckViewSet, basename="checks")

urlpatterns = [
    re_path(r"^audit/?$", views.AuditView.as_view(), name="audit"),
    re_path(r"^gate/?$", views.GateView.as_view(), name="gate"),
    *router.urls,
]
