"""Retry policies: how many attempts, how long to wait, which errors deserve another try."""

import random
from dataclasses import dataclass, field

from django.tasks.exceptions import InvalidTask
from django.utils.module_loading import import_string


class Backoff:
    FIXED = "fixed"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"
    CHOICES = (FIXED, LINEAR, EXPONENTIAL)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff of a task; `delays` pins the wait before each retry explicitly."""

    max_attempts: int = 1
    backoff: str = Backoff.EXPONENTIAL
    base: float = 60.0  # seconds before the first retry
    factor: float = 2.0  # exponential growth per retry
    cap: float = 3600.0  # no wait is longer than this
    jitter: float = 0.0  # +/- fraction of the wait, spreads retries of many runs
    delays: tuple = ()  # explicit waits, e.g. (60, 300, 1800); the last repeats
    retry_on: tuple = ("builtins.Exception",)  # dotted exception classes worth retrying
    _classes: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise InvalidTask(f"max_attempts must be a positive integer, got {self.max_attempts!r}")
        if self.backoff not in Backoff.CHOICES:
            raise InvalidTask(f"backoff must be one of {Backoff.CHOICES}, got {self.backoff!r}")
        for name in ("base", "factor", "cap"):
            if getattr(self, name) < 0:
                raise InvalidTask(f"{name} must not be negative")
        if self.backoff == Backoff.EXPONENTIAL and self.factor < 1:
            raise InvalidTask("an exponential backoff needs factor >= 1")
        if not 0 <= self.jitter <= 1:
            raise InvalidTask("jitter must be between 0 and 1")
        object.__setattr__(self, "delays", tuple(float(d) for d in self.delays))
        if any(d < 0 for d in self.delays):
            raise InvalidTask("delays must not be negative")
        classes = []
        for path in self.retry_on:
            cls = path if isinstance(path, type) else import_string(path)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                raise InvalidTask(f"retry_on entry {path!r} is not an exception class")
            classes.append(cls)
        object.__setattr__(
            self, "retry_on", tuple(p if isinstance(p, str) else f"{p.__module__}.{p.__qualname__}" for p in self.retry_on)
        )
        object.__setattr__(self, "_classes", tuple(classes))

    @classmethod
    def none(cls):
        """One attempt, best effort."""
        return cls(max_attempts=1)

    @classmethod
    def fixed(cls, max_attempts, seconds, **kwargs):
        return cls(max_attempts=max_attempts, backoff=Backoff.FIXED, base=seconds, **kwargs)

    @classmethod
    def linear(cls, max_attempts, seconds, **kwargs):
        return cls(max_attempts=max_attempts, backoff=Backoff.LINEAR, base=seconds, **kwargs)

    @classmethod
    def exponential(cls, max_attempts, base=60.0, factor=2.0, **kwargs):
        return cls(max_attempts=max_attempts, backoff=Backoff.EXPONENTIAL, base=base, factor=factor, **kwargs)

    def should_retry(self, attempt, exc_type, max_attempts=None):
        """Return whether a run whose attempt number `attempt` raised `exc_type` gets another go."""
        if attempt >= (max_attempts or self.max_attempts):
            return False
        return exc_type is None or issubclass(exc_type, self._classes)

    def delay(self, attempt, rng=random):
        """Return the seconds to wait after failed attempt number `attempt` (1-based)."""
        if self.delays:
            seconds = self.delays[min(attempt, len(self.delays)) - 1]
        elif self.backoff == Backoff.FIXED:
            seconds = self.base
        elif self.backoff == Backoff.LINEAR:
            seconds = self.base * attempt
        else:
            seconds = self.base * self.factor ** (attempt - 1)
        seconds = min(seconds, self.cap)
        if self.jitter:
            seconds *= 1 + rng.uniform(-self.jitter, self.jitter)
        return max(0.0, seconds)

    def to_json(self):
        return {
            "max_attempts": self.max_attempts,
            "backoff": self.backoff,
            "base": self.base,
            "factor": self.factor,
            "cap": self.cap,
            "jitter": self.jitter,
            "delays": list(self.delays),
            "retry_on": list(self.retry_on),
        }

    @classmethod
    def from_json(cls, data):
        data = dict(data or {})
        data["delays"] = tuple(data.get("delays") or ())
        data["retry_on"] = tuple(data.get("retry_on") or ("builtins.Exception",))
        return cls(**data)

    def describe(self):
        if self.max_attempts == 1:
            return "1 attempt"
        if self.delays:
            waits = "/".join(_human(d) for d in self.delays)
        elif self.backoff == Backoff.EXPONENTIAL:
            waits = f"exponential from {_human(self.base)} x{self.factor:g}"
        else:
            waits = f"{self.backoff} {_human(self.base)}"
        return f"{self.max_attempts} attempts, {waits}, cap {_human(self.cap)}"


def _human(seconds):
    seconds = float(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
