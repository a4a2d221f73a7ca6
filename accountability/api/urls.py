"""Routes of /api/v1/ai-accountability/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash="/?")
router.register("projects", views.ProjectViewSet, basename="projects")
router.register("use-cases", views.UseCaseViewSet, basename="use-cases")
router.register("caio", views.CAIOViewSet, basename="caio")
router.register("oversight-plans", views.OversightPlanViewSet, basename="oversight-plans")
router.register("stakeholders", views.StakeholderViewSet, basename="stakeholders")
router.register("obligations", views.ObligationViewSet, basename="obligations")
router.register("notifications", views.NotificationViewSet, basename="notifications")

urlpatterns = [*router.urls, path("ledger/", include("accountability.ledger.api.urls"))]
