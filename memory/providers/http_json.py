"""One JSON POST to a provider's HTTP API, its failures sorted into the two kinds callers report."""

import http.client
import json
import urllib.error
import urllib.request


class HttpStatusError(Exception):
    """The server answered with an HTTP error status."""

    def __init__(self, status, body):
        super().__init__(f"HTTP {status}")
        self.status, self.body = status, body


class Unreachable(Exception):
    """The request never got an answer: refused, timed out or cut off."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def post_json(endpoint, payload, *, api_key="", timeout):
    """POST `payload` as JSON (with a bearer token when given); return the raw response body."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(endpoint, data=json.dumps(payload).encode(), headers=headers, method="POST")
    try:
        # The timeout bounds the connection and each read, not the whole answer.
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise HttpStatusError(error.code, error.read()) from error
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise Unreachable(getattr(error, "reason", error)) from error
