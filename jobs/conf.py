"""Every JOBS_* setting with its type and default, in one place.

Values come from django.conf.settings and are cached until a setting of the app changes
(override_settings and pytest's settings fixture send `setting_changed`) or settings are
swapped underneath (an override entered or left), so tests see their overrides; the hot paths
pay a dict lookup instead of a type conversion. project/settings.py reads the environment with
these defaults.
"""

from typing import ClassVar, get_type_hints

from django.conf import settings
from django.core.signals import setting_changed


class AppSettings:
    """An app's settings: upper-case class attributes are the defaults, their annotations the types.

    A setting that is missing, None, or a blank string takes the default (the environment gives
    blank strings for unset optional values).
    """

    prefix: ClassVar[str] = ""

    def __init__(self):
        self._cache = {}  # setting name -> its value, for the settings object in `_cache_of`
        self._cache_of = None
        setting_changed.connect(self._setting_changed)

    def __getattribute__(self, name):
        if not name.isupper():
            return object.__getattribute__(self, name)
        cache = object.__getattribute__(self, "_cache")
        current = settings._wrapped  # replaced whenever an override starts or ends
        if object.__getattribute__(self, "_cache_of") is not current:
            cache.clear()
            self._cache_of = current
        try:
            return cache[name]
        except KeyError:
            value = cache[name] = object.__getattribute__(self, "_read")(name)
            return value

    def _read(self, name):
        cls = type(self)
        default = getattr(cls, name)  # AttributeError: not a setting of this app
        value = getattr(settings, cls.prefix + name, None)
        if value is None or value == "":
            return default
        kind = get_type_hints(cls).get(name)
        return kind(value) if kind in (int, float, str) else value

    def _setting_changed(self, *, setting, **kwargs):
        if setting.startswith(self.prefix):
            self._cache.clear()

    @classmethod
    def defaults(cls):
        """Every setting's full name and default."""
        return {cls.prefix + name: getattr(cls, name) for name in dir(cls) if name.isupper()}


class JobsSettings(AppSettings):
    prefix = "JOBS_"

    QUEUES: tuple = (
        "default", "topics", "embeddings", "analytics", "graphs", "memory",
        "documents", "ai", "validation", "search", "maintenance",
    )
    LANES: tuple = ("high", "normal", "low")
    RESULT_MAX_BYTES: int = 65536
    HEARTBEAT_SECONDS: float = 2.0
    WORKER_TIMEOUT_SECONDS: float = 7.0
    CANCEL_GRACE_SECONDS: float = 10.0
    SHUTDOWN_GRACE_SECONDS: float = 30.0
    DISPATCH_GRACE_SECONDS: float = 5.0
    SCHEDULER_MISFIRE_GRACE_SECONDS: float = 10.0
    SCHEDULER_LEASE_SECONDS: float = 3.0
    HOUSEKEEPING_SECONDS: float = 2.0
    PROGRESS_INTERVAL_SECONDS: float = 0.25
    LIVE_EVENT_INTERVAL_SECONDS: float = 0.2
    RETENTION_DAYS: int = 30
    RQ_RESULT_TTL: int = 600
    PREPARED_STATEMENTS: bool = True
    LOG_LEVEL: str = "INFO"
    METRICS_TOKEN: str = ""
    API_AUTHENTICATORS: tuple = ("jobs.api.auth.session_auth",)


jobs_settings = JobsSettings()
