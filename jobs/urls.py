from django.urls import path

from . import api, probes, views

app_name = "jobs"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("healthz", probes.healthz, name="healthz"),
    path("readyz", probes.readyz, name="readyz"),
    path("metrics", probes.metrics_view, name="metrics"),
    path("api/runs/", api.runs_collection, name="api-runs"),
    path("api/runs/openapi.json", api.openapi_schema, name="api-openapi"),
    path("api/runs/<uuid:run_id>", api.run_view, name="api-run"),
    path("api/runs/<uuid:run_id>/cancel", api.cancel_view, name="api-run-cancel"),
    path("api/runs/<uuid:run_id>/retry", api.retry_view, name="api-run-retry"),
]
