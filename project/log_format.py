"""Log lines: one JSON object a line (LOG_FORMAT=json) or readable text, each with its correlation ids."""

import json
import logging
from datetime import datetime, timezone

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "context"}


class CorrelationFilter(logging.Filter):
    """Attach the current run's and request's ids to every record as `record.context`."""

    def filter(self, record):
        if not hasattr(record, "context"):
            # Imported on use: settings build LOGGING before the jobs package may be imported.
            from jobs.correlation import log_context

            record.context = log_context()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, correlation ids, extras, exception."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger: message [run=… task=… attempt=… queue=… worker=… request_id=…]`."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record):
        line = super().format(record)
        context = getattr(record, "context", None)
        if not context:
            return line
        suffix = " ".join(f"{name}={value}" for name, value in context.items())
        first, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{first} [{suffix}]{newline}{rest}"


def logging_config(log_format, jobs_level="INFO", memory_level="INFO"):
    """Django's LOGGING for LOG_FORMAT=json|plain: one console handler that adds correlation ids."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": log_format,
        # Bearer tokens, passwords, secrets and API keys never reach a log (project/log_redaction.py).
        "filters": ["correlation", "redact"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": "project.log_format.CorrelationFilter"},
                    "redact": {"()": "project.log_redaction.RedactSecrets"}},
        "formatters": {"plain": {"()": "project.log_format.PlainFormatter"},
                       "json": {"()": "project.log_format.JsonFormatter"}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "jobs": {"handlers": ["console"], "level": jobs_level, "propagate": False},
            "memory": {"handlers": ["console"], "level": memory_level, "propagate": False},
            "project": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "engram.request": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.tasks": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
