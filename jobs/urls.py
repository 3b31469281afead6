from django.urls import include, path

from . import probes, views

app_name = "jobs"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("metrics", probes.metrics_view, name="metrics"),
]
