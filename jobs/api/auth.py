"""Who may call the run API: JOBS_API_AUTHENTICATORS, then the dashboard's permissions."""

import functools

from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from ..conf import jobs_settings
from ..models import JobRun

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidInput(Exception):
    """Input that failed validation; carries {field: [messages]}."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def error(status, message):
    return JsonResponse({"error": message}, status=status)


def session_auth(request):
    """The default authenticator: Django's session, with CSRF checked on writes."""
    if request.user.is_authenticated and request.method not in SAFE_METHODS:
        rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if rejected is not None:
            return error(403, "CSRF verification failed.")
    return None


@functools.cache
def _authenticators(paths):
    return [import_string(path) for path in paths]


def authenticate(request):
    """Run JOBS_API_AUTHENTICATORS in order; return the first error response, or None."""
    paths = tuple(jobs_settings.API_AUTHENTICATORS)
    for authenticator in _authenticators(paths):
        rejected = authenticator(request)
        if rejected is not None:
            return rejected
    return None


def api_view(*methods, permission="jobs.view_jobrun"):
    """Authenticate, check the permission, and answer errors and wrong methods in JSON."""

    def decorate(view):
        @csrf_exempt  # checked by the authenticators, for session-authenticated writes only
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} not allowed.")
                response["Allow"] = ", ".join(methods)
                return response
            rejected = authenticate(request)
            if rejected is not None:
                return rejected
            user = request.user
            if not user.is_authenticated:
                return error(401, "Authentication required: log in or send an Authorization: Bearer token.")
            needed = [permission] if request.method in SAFE_METHODS else [permission, "jobs.change_jobrun"]
            if not (user.is_active and user.is_staff and user.has_perms(needed)):
                return error(403, "You may not " + ("view runs." if request.method in SAFE_METHODS
                                                   else "enqueue, cancel or retry runs."))
            try:
                return view(request, *args, **kwargs)
            except InvalidInput as exc:
                return JsonResponse({"errors": exc.errors}, status=400)
            except JobRun.DoesNotExist:
                return error(404, "Not found.")

        return wrapper

    return decorate
