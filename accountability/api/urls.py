"""Routes of /api/v1/ai-accountability/."""

from rest_framework.routers import SimpleRouter

from . import incident_views, reassessment_api, views

router = SimpleRouter(trailing_slash="/?")
router.register("projects", views.ProjectViewSet, basename="projects")
router.register("use-cases", views.UseCaseViewSet, basename="use-cases")
router.register("caio", views.CAIOViewSet, basename="caio")
router.register("oversight-plans", views.OversightPlanViewSet, basename="oversight-plans")
router.register("stakeholders", views.StakeholderViewSet, basename="stakeholders")
router.register("obligations", views.ObligationViewSet, basename="obligations")
router.register("notifications", views.NotificationViewSet, basename="notifications")
router.register("incidents", incident_views.IncidentViewSet, basename="incidents")
router.register("reassessments", reassessment_api.ReassessmentViewSet, basename="reassessments")

urlpatterns = router.urls
