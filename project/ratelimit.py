"""Fixed-window rate limits counted in Redis through Django's cache ("N/SECONDS" settings)."""

import hashlib

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured


def parse_rate(text):
    """(count, seconds) from "10/300"."""
    try:
        count, seconds = (int(part) for part in text.split("/"))
    except ValueError:
        raise ImproperlyConfigured(f"a rate is COUNT/SECONDS, e.g. 10/300; got {text!r}") from None
    if count < 1 or seconds < 1:
        raise ImproperlyConfigured(f"a rate needs COUNT >= 1 and SECONDS >= 1; got {text!r}")
    return count, seconds


def _key(scope, identity):
    # Hashed: an identity is user input (a username, an address) and cache keys must stay short and plain.
    return f"ratelimit:{scope}:{hashlib.sha256(str(identity).encode('utf-8', 'replace')).hexdigest()[:32]}"


def exceeded(scope, identity, rate):
    """Whether `identity` has already used up `rate` in the current window (does not count a hit)."""
    count, _ = parse_rate(rate)
    return (cache.get(_key(scope, identity)) or 0) >= count


def hit(scope, identity, rate):
    """Count one hit; return True while the window still allows it."""
    count, seconds = parse_rate(rate)
    key = _key(scope, identity)
    cache.add(key, 0, timeout=seconds)  # the window starts with the first hit and is not extended
    try:
        return cache.incr(key) <= count
    except ValueError:  # the key expired between add() and incr(): a new window
        cache.add(key, 1, timeout=seconds)
        return True


def client_address(request):
    """The client's address as the server sees it (the proxy's, unless Daphne is told the real one)."""
    return request.META.get("REMOTE_ADDR") or "unknown"
