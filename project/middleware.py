"""Refuse request parameters no page can store: NUL (PostgreSQL text) and lone surrogates (UTF-8)."""

from django.http import HttpResponseBadRequest, JsonResponse

from jobs.safe_json import UnsafeInput, check_string

MAX_PARAMETER_CHARS = 100_000


def _problem(request):
    """(field, message) of the first unsafe query or form parameter, or None."""
    sources = [request.GET]
    # Multipart and JSON bodies are left to their views (the API checks JSON with jobs.safe_json).
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        sources.append(request.POST)
    for source in sources:
        for name, values in source.lists():
            for value in (name, *values):
                if len(value) > MAX_PARAMETER_CHARS:
                    return name, f"longer than {MAX_PARAMETER_CHARS} characters."
                try:
                    check_string(value)
                except UnsafeInput as exc:
                    return name, exc.sentence
    return None


class UnsafeParametersMiddleware:
    """Answer 400 naming the parameter, before any view, form or admin search sends it to the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _problem(request)
        if problem is not None:
            field, message = problem
            if request.path.startswith("/api/"):
                return JsonResponse({"errors": {field: [message]}}, status=400)
            return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain; charset=utf-8")
        return self.get_response(request)
