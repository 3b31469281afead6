"""X-Request-ID: every request gets an id (the client's, when it sends a sane one), logs it, returns
it, and lends it to the runs it enqueues."""

import logging
import re
import time
import uuid

from jobs.correlation import request_scope

HEADER = "X-Request-ID"
# A proxy's id is kept when it is short and plain; anything else could forge or break log lines.
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")

logger = logging.getLogger("engram.request")
# Probes and scrapes come every second or so: logged at DEBUG, or they would drown the rest.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def request_id_of(request):
    """The client's X-Request-ID if it is acceptable, else a new one."""
    given = request.headers.get(HEADER, "")
    return given if ACCEPTED.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Give the request its id for its whole life, log one line when it ends, and echo the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_of(request)
        started = time.perf_counter()
        with request_scope(request.request_id):
            response = self.get_response(request)
            response[HEADER] = request.request_id
            user = getattr(request, "user", None)
            logger.log(
                logging.DEBUG if request.path in QUIET_PATHS else logging.INFO, "%s %s %s", request.method, request.path, response.status_code,
                extra={"method": request.method, "path": request.path, "status": response.status_code,
                       "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                       "user_id": user.pk if user is not None and user.is_authenticated else None},
            )
        return response
