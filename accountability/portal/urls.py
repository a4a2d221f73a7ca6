"""Routes of /portal/."""

from django.urls import path

from . import views, workflow

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("ai-accountability/", views.home, name="ai-accountability"),
    path("projects/<str:key>/", views.project_detail, name="project"),
    path("notifications/", views.notifications, name="notifications"),
    path("appeals/", workflow.appeal_list, name="appeals"),
    path("appeals/new/", workflow.appeal_new, name="appeal-new"),
    path("appeals/<str:public_id>/", workflow.appeal_detail, name="appeal"),
    path("tasks/", workflow.task_list, name="tasks"),
    path("tasks/<int:pk>/", workflow.task_open, name="task"),
    path("ethics-reviews/<str:public_id>/", workflow.review_detail, name="ethics-review"),
    path("ethics-reviews/<str:public_id>/score/", workflow.review_score, name="ethics-score"),
]
