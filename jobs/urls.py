from django.urls import path

from . import probes, views
from .api import views as api_views

app_name = "jobs"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/series.json", views.dashboard_series, name="dashboard-series"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("metrics", probes.metrics_view, name="metrics"),
    path("api/runs/", api_views.runs_collection, name="api-runs"),
    path("api/runs/openapi.json", api_views.openapi_schema, name="api-openapi"),
    path("api/runs/<uuid:run_id>", api_views.run_view, name="api-run"),
    path("api/runs/<uuid:run_id>/cancel", api_views.cancel_view, name="api-run-cancel"),
    path("api/runs/<uuid:run_id>/retry", api_views.retry_view, name="api-run-retry"),
]
