"""Authenticate API requests (session or bearer token) and turn API errors into JSON responses."""

import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from jobs import safe_json
from memory.models import ApiToken
from project import ratelimit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class InvalidInput(Exception):
    """Input that failed validation; carries {field: [messages]}."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def error(status, message):
    return JsonResponse({"error": message}, status=status)


def bearer_secret(request):
    """The secret of an `Authorization: Bearer` header, "" for an empty one, None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


def authenticate(request):
    """Set request.user from a bearer token or the session; return an error response or None."""
    secret = bearer_secret(request)
    if secret is not None:
        # Counted per client address before the lookup: guessing tokens costs a window per N tries.
        if not ratelimit.hit("api-token", ratelimit.client_address(request), settings.ENGRAM_TOKEN_RATE):
            return error(429, "Too many requests with API tokens from this address; slow down.")
        # A token that does not match is a 401 even with a valid session: the client meant the token.
        token = ApiToken.authenticate(secret) if secret else None
        if token is None:
            return error(401, "Invalid, expired or revoked API token.")
        token.touch()
        request.user = token.scoped_user()
        return None
    if not request.user.is_authenticated:
        return error(401, "Authentication required: log in or send an Authorization: Bearer token.")
    if request.method not in SAFE_METHODS:
        # The session cookie rides along on cross-site requests; tokens do not, so only sessions need CSRF.
        rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if rejected is not None:
            return error(403, "CSRF verification failed.")
    return None


def json_body(request):
    """The request body as a JSON object ({} when empty), checked by jobs.safe_json (depth, size, NUL, NaN...)."""
    if not request.body:
        return {}
    try:
        data = safe_json.loads(request.body)
    except safe_json.UnsafeInput as exc:
        raise InvalidInput({exc.field or "__all__": [str(exc) if exc.where else exc.sentence]}) from None
    if not isinstance(data, dict):
        raise InvalidInput({"__all__": ["The body must be a JSON object."]})
    return data


def api_view(*methods):
    """Wrap a view taking (request, ...) to authenticate it and answer errors and bad methods in JSON."""

    def decorate(view):
        @csrf_exempt  # checked in authenticate(), for session-authenticated requests only
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} not allowed.")
                response["Allow"] = ", ".join(methods)
                return response
            rejected = authenticate(request)
            if rejected is not None:
                return rejected
            try:
                return view(request, *args, **kwargs)
            except InvalidInput as exc:
                return JsonResponse({"errors": exc.errors}, status=400)
            except Http404:
                return error(404, "Not found.")
            except PermissionDenied:
                return error(403, "Your role in this workspace does not allow this.")

        return wrapper

    return decorate
