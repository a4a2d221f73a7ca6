"""Routes of /api/v1/ai-accountability/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import appeals, ethics, evidence_views, incident_views, reassessment_api, tasks, views

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
router.register("appeals", appeals.AppealViewSet, basename="appeals")
router.register("ethics-reviews", ethics.EthicsReviewViewSet, basename="ethics-reviews")
router.register("tasks", tasks.TaskViewSet, basename="tasks")
for prefix, viewset in evidence_views.ROUTES:
    router.register(prefix, viewset, basename=prefix)

urlpatterns = [*router.urls, path("ledger/", include("accountability.ledger.api.urls"))]
