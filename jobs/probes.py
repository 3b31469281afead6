"""Endpoints for machines: liveness, readiness and Prometheus metrics."""

import hmac

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from .conf import jobs_settings
from . import health, metrics


@never_cache
@require_safe
def healthz(request):
    """Liveness: the process answers (no dependency is consulted)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: 200 when every check passes, 503 with each check's status otherwise."""
    body = health.as_json(health.run_checks())
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


def metrics_allowed(request):
    """A bearer token equal to JOBS_METRICS_TOKEN, or a staff session allowed to view runs."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    token = jobs_settings.METRICS_TOKEN
    if scheme.lower() == "bearer":
        return bool(token) and hmac.compare_digest(secret.strip().encode(), token.encode())
    user = request.user
    return user.is_authenticated and user.is_staff and user.has_perm("jobs.view_jobrun")


@never_cache
@require_safe
def metrics_view(request):
    """Every series in Prometheus' text format (the ledger's gauges and this machine's processes)."""
    if not metrics_allowed(request):
        response = HttpResponse("Send Authorization: Bearer <JOBS_METRICS_TOKEN>, or log in as staff.\n",
                                status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
