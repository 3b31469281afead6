"""Engram settings: every environment variable is read here, once."""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


# --- environment helpers: fail loudly, naming the variable --------------------------------


def env_str(name, default=""):
    """Return a string variable, or the file named by NAME_FILE (for secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path}: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name, default=False):
    """Return a boolean variable (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name, default, minimum=None):
    """Return an integer variable, at least `minimum` when given."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_float(name, default, minimum=None):
    """Return a float variable, at least `minimum` when given."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_list(name, default=()):
    """Return a comma-separated list variable."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url, name="DATABASE_URL"):
    """Turn postgres://user:pass@host:port/db?opts into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"{name} must start with postgresql://, got scheme {parts.scheme!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name:
        raise ImproperlyConfigured(f"{name} must name a database (postgresql://host/dbname)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
    }


# --- core --------------------------------------------------------------------------------

DEBUG = env_bool("ENGRAM_DEBUG", True)
SECRET_KEY = env_str("ENGRAM_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("ENGRAM_SECRET_KEY must be set when ENGRAM_DEBUG is off")
    SECRET_KEY = "engram-local-development-key-not-for-production"
ALLOWED_HOSTS = env_list("ENGRAM_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ENGRAM_CSRF_TRUSTED_ORIGINS", [])

# Embedded services live under var/ inside the project (pgserver as root chmods parents).
VAR_DIR = Path(env_str("ENGRAM_VAR_DIR", str(BASE_DIR / "var"))).resolve()

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_rq",
    "channels",
    "jobs",
    "memory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database: DATABASE_URL, or the embedded PostgreSQL under var/ ------------------------

DATABASE_URL = env_str("DATABASE_URL", "")
EMBEDDED_POSTGRES = not DATABASE_URL
if DATABASE_URL:
    _database = database_from_url(DATABASE_URL)
else:
    _database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "engram",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(VAR_DIR / "run"),
        "PORT": "",
        "OPTIONS": {},
    }
_database["CONN_MAX_AGE"] = env_int("ENGRAM_DB_CONN_MAX_AGE", 600, minimum=0)
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: REDIS_URL, or the embedded redis-server under var/ ----------------------------

REDIS_URL = env_str("REDIS_URL", "")
EMBEDDED_REDIS = not REDIS_URL
if not REDIS_URL:
    REDIS_URL = f"unix://{VAR_DIR / 'run' / 'redis.sock'}?db=0"
elif not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")

# --- jobs ----------------------------------------------------------------------------------

JOBS_QUEUES = env_list(
    "JOBS_QUEUES", ["default", "topics", "embeddings", "analytics", "graphs", "memory", "maintenance"]
)
JOBS_LANES = ["high", "normal", "low"]
JOBS_RESULT_MAX_BYTES = env_int("JOBS_RESULT_MAX_BYTES", 65536, minimum=256)
JOBS_HEARTBEAT_SECONDS = env_float("JOBS_HEARTBEAT_SECONDS", 2.0, minimum=0.1)
JOBS_WORKER_TIMEOUT_SECONDS = env_float("JOBS_WORKER_TIMEOUT_SECONDS", 15.0, minimum=1.0)
JOBS_CANCEL_GRACE_SECONDS = env_float("JOBS_CANCEL_GRACE_SECONDS", 10.0, minimum=0.0)
JOBS_SHUTDOWN_GRACE_SECONDS = env_float("JOBS_SHUTDOWN_GRACE_SECONDS", 30.0, minimum=0.0)
JOBS_DISPATCH_GRACE_SECONDS = env_float("JOBS_DISPATCH_GRACE_SECONDS", 5.0, minimum=0.0)
JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS = env_float("JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS", 10.0, minimum=0.0)
JOBS_HOUSEKEEPING_SECONDS = env_float("JOBS_HOUSEKEEPING_SECONDS", 2.0, minimum=0.1)
JOBS_PROGRESS_INTERVAL_SECONDS = env_float("JOBS_PROGRESS_INTERVAL_SECONDS", 0.25, minimum=0.0)
JOBS_LIVE_EVENT_INTERVAL_SECONDS = env_float("JOBS_LIVE_EVENT_INTERVAL_SECONDS", 0.2, minimum=0.0)
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", 30, minimum=0)
JOBS_RQ_RESULT_TTL = env_int("JOBS_RQ_RESULT_TTL", 600, minimum=0)

# --- memory --------------------------------------------------------------------------------

MEMORY_RETENTION_DAYS = env_int("MEMORY_RETENTION_DAYS", 0, minimum=0)  # episodic memories; 0 = keep
MEMORY_SESSION_IDLE_DAYS = env_int("MEMORY_SESSION_IDLE_DAYS", 30, minimum=1)
MEMORY_DECAY_FLOOR = env_float("MEMORY_DECAY_FLOOR", 0.05, minimum=0.0)
MEMORY_EMBEDDINGS_PROVIDER = env_str("MEMORY_EMBEDDINGS_PROVIDER", "local")
MEMORY_EMBEDDINGS_MODEL_DIR = env_str("MEMORY_EMBEDDINGS_MODEL_DIR", "")
MEMORY_EMBEDDINGS_URL = env_str("MEMORY_EMBEDDINGS_URL", "")
MEMORY_EMBEDDINGS_MODEL = env_str("MEMORY_EMBEDDINGS_MODEL", "")
MEMORY_EMBEDDINGS_API_KEY = env_str("MEMORY_EMBEDDINGS_API_KEY", "")
MEMORY_EMBEDDINGS_BATCH_SIZE = env_int("MEMORY_EMBEDDINGS_BATCH_SIZE", 32, minimum=1)
MEMORY_EMBEDDINGS_TIMEOUT_SECONDS = env_float("MEMORY_EMBEDDINGS_TIMEOUT_SECONDS", 30.0, minimum=0.1)
MEMORY_CHATS_UPLOAD_MAX_BYTES = env_int("MEMORY_CHATS_UPLOAD_MAX_BYTES", 200 * 1024 * 1024, minimum=1)
MEMORY_CHATS_UPLOAD_DIR = env_str("MEMORY_CHATS_UPLOAD_DIR", "")  # empty: <ENGRAM_VAR_DIR>/chats/uploads
MEMORY_LLM_PROVIDER = env_str("MEMORY_LLM_PROVIDER", "local")
MEMORY_LLM_URL = env_str("MEMORY_LLM_URL", "https://api.openai.com")
MEMORY_LLM_MODEL = env_str("MEMORY_LLM_MODEL", "gpt-4o-mini")
MEMORY_LLM_API_KEY = env_str("MEMORY_LLM_API_KEY", "")
MEMORY_LLM_TIMEOUT_SECONDS = env_float("MEMORY_LLM_TIMEOUT_SECONDS", 60.0, minimum=0.1)

TASKS = {
    "default": {
        "BACKEND": "jobs.backend.RQBackend",
        "QUEUES": JOBS_QUEUES,
    }
}

RQ_QUEUES = {
    f"{queue}.{lane}": {
        "URL": REDIS_URL,
        "SERIALIZER": "rq.serializers.JSONSerializer",
        "DEFAULT_TIMEOUT": -1,
    }
    for queue in JOBS_QUEUES
    for lane in JOBS_LANES
}
RQ = {"WORKER_CLASS": "jobs.worker.EngramWorker"}
RQ_SHOW_ADMIN_LINK = True

# --- channels ------------------------------------------------------------------------------

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

# --- auth, i18n, static ----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("ENGRAM_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "admin:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "jobs": {"handlers": ["console"], "level": env_str("JOBS_LOG_LEVEL", "INFO")},
        "django.tasks": {"handlers": ["console"], "level": "WARNING"},
    },
}
