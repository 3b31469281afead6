"""The run API's authentication (JOBS_API_AUTHENTICATORS): the memory API's bearer tokens and
sessions, so one token works for both APIs. jobs/ never imports memory/; this adapter joins them."""

from memory.core.api_auth import authenticate as memory_authenticate


def token_or_session(request):
    """Set request.user from a bearer token or the session (CSRF on session writes); a bad token is a 401."""
    return memory_authenticate(request)
