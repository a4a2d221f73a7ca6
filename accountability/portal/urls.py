"""Routes of /portal/."""

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("ai-accountability/", views.home, name="ai-accountability"),
    path("projects/<str:key>/", views.project_detail, name="project"),
    path("notifications/", views.notifications, name="notifications"),
]
