"""A logging filter that keeps secrets out of every log line: tokens, passwords, webhook secrets, API keys."""

import logging
import re

REDACTED = "[redacted]"

PATTERNS = [
    # Authorization headers and bare bearer tokens, including Engram's own eng_ tokens anywhere.
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"\beng_[A-Za-z0-9_-]{8,}"), REDACTED),
    # key=value and "key": "value" pairs whose key names a secret.
    (re.compile(r"""(?ix)
        (["']?\b[\w-]*(?:password|passwd|secret|api[_-]?key|token|signature|authorization|credential)[\w-]*\b["']?
         \s*[:=]\s*)
        (["']?)([^"'\s,;&}]+)"""), rf"\1\2{REDACTED}"),
    # Passwords inside URLs: scheme://user:password@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)"), rf"\1{REDACTED}\3"),
]


def redact(text):
    """`text` with every secret-looking value replaced by [redacted]."""
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Render the record's message once, redacted; the record keeps no reference to the secret."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem to report, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
