"""Engram settings: every environment variable is read here, once."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# Each app keeps its settings' types and defaults in one place; here the environment overrides them.
from jobs.conf import JobsSettings
from memory.conf import MemorySettings

from .env import database_from_url, env_bool, env_float, env_int, env_list, env_str, generated_secret_key
from .log_format import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


# --- core and deployment security ---------------------------------------------------------
# DJANGO_ENV=production switches every default below to the deployment checklist's value
# (`manage.py check --deploy` is then silent); each one can still be set on its own.

DJANGO_ENV = env_str("DJANGO_ENV", "development").strip().lower()
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, got {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("ENGRAM_DEBUG", not PRODUCTION)

# Embedded services live under var/ inside the project (pgserver as root chmods parents).
VAR_DIR = Path(env_str("ENGRAM_VAR_DIR", str(BASE_DIR / "var"))).resolve()


SECRET_KEY = env_str("ENGRAM_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION or not DEBUG:
        raise ImproperlyConfigured("ENGRAM_SECRET_KEY (or ENGRAM_SECRET_KEY_FILE) must be set in production")
    SECRET_KEY = generated_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ENGRAM_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ENGRAM_CSRF_TRUSTED_ORIGINS", [])

# TLS is terminated by the reverse proxy, which must set (and overwrite) X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("ENGRAM_BEHIND_TLS_PROXY", PRODUCTION) \
    else None
SECURE_SSL_REDIRECT = env_bool("ENGRAM_SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz?$"]
SECURE_HSTS_SECONDS = env_int("ENGRAM_SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ENGRAM_SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("ENGRAM_SECURE_HSTS_PRELOAD", PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("ENGRAM_SESSION_COOKIE_SECURE", PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("ENGRAM_SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=300)
CSRF_COOKIE_SECURE = env_bool("ENGRAM_CSRF_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SAMESITE = "Lax"
# Bodies and forms larger than this are refused (400) before any view parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ENGRAM_MAX_REQUEST_BYTES", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

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
    # The project's own commands (`serve`, `services`): it wires the embedded servers in, so the
    # apps never import project.embedded.
    "project",
]

MIDDLEWARE = [
    "project.request_id.RequestIdMiddleware",  # first: every later line of the request carries its id
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "project.middleware.UnsafeParametersMiddleware",
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
                "django.template.context_processors.csp",
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

JOBS_QUEUES = env_list("JOBS_QUEUES", JobsSettings.QUEUES)
JOBS_LANES = list(JobsSettings.LANES)
JOBS_RESULT_MAX_BYTES = env_int("JOBS_RESULT_MAX_BYTES", JobsSettings.RESULT_MAX_BYTES, minimum=256)
JOBS_HEARTBEAT_SECONDS = env_float("JOBS_HEARTBEAT_SECONDS", JobsSettings.HEARTBEAT_SECONDS, minimum=0.1)
JOBS_WORKER_TIMEOUT_SECONDS = env_float("JOBS_WORKER_TIMEOUT_SECONDS", JobsSettings.WORKER_TIMEOUT_SECONDS, minimum=1.0)
JOBS_CANCEL_GRACE_SECONDS = env_float("JOBS_CANCEL_GRACE_SECONDS", JobsSettings.CANCEL_GRACE_SECONDS, minimum=0.0)
JOBS_SHUTDOWN_GRACE_SECONDS = env_float("JOBS_SHUTDOWN_GRACE_SECONDS", JobsSettings.SHUTDOWN_GRACE_SECONDS, minimum=0.0)
JOBS_DISPATCH_GRACE_SECONDS = env_float("JOBS_DISPATCH_GRACE_SECONDS", JobsSettings.DISPATCH_GRACE_SECONDS, minimum=0.0)
JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS = env_float("JOBS_SCHEDULER_MISFIRE_GRACE_SECONDS", JobsSettings.SCHEDULER_MISFIRE_GRACE_SECONDS, minimum=0.0)
JOBS_SCHEDULER_LEASE_SECONDS = env_float("JOBS_SCHEDULER_LEASE_SECONDS", JobsSettings.SCHEDULER_LEASE_SECONDS, minimum=1.0)
JOBS_HOUSEKEEPING_SECONDS = env_float("JOBS_HOUSEKEEPING_SECONDS", JobsSettings.HOUSEKEEPING_SECONDS, minimum=0.1)
JOBS_PROGRESS_INTERVAL_SECONDS = env_float("JOBS_PROGRESS_INTERVAL_SECONDS", JobsSettings.PROGRESS_INTERVAL_SECONDS, minimum=0.0)
JOBS_LIVE_EVENT_INTERVAL_SECONDS = env_float("JOBS_LIVE_EVENT_INTERVAL_SECONDS", JobsSettings.LIVE_EVENT_INTERVAL_SECONDS, minimum=0.0)
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", JobsSettings.RETENTION_DAYS, minimum=0)
JOBS_RQ_RESULT_TTL = env_int("JOBS_RQ_RESULT_TTL", JobsSettings.RQ_RESULT_TTL, minimum=0)
JOBS_PREPARED_STATEMENTS = env_bool("JOBS_PREPARED_STATEMENTS", JobsSettings.PREPARED_STATEMENTS)
# Observability: /metrics accepts this bearer token (staff sessions always may); empty = staff only.
JOBS_METRICS_TOKEN = env_str("JOBS_METRICS_TOKEN", JobsSettings.METRICS_TOKEN)
# The run API (/api/runs/) authenticates with the memory API's tokens and sessions.
JOBS_API_AUTHENTICATORS = ["project.api_auth.token_or_session"]

# --- memory --------------------------------------------------------------------------------

MEMORY_RETENTION_DAYS = env_int("MEMORY_RETENTION_DAYS", MemorySettings.RETENTION_DAYS, minimum=0)  # episodic memories; 0 = keep
MEMORY_SESSION_IDLE_DAYS = env_int("MEMORY_SESSION_IDLE_DAYS", MemorySettings.SESSION_IDLE_DAYS, minimum=1)
MEMORY_DECAY_FLOOR = env_float("MEMORY_DECAY_FLOOR", MemorySettings.DECAY_FLOOR, minimum=0.0)
MEMORY_API_TOKEN_DAYS = env_int("MEMORY_API_TOKEN_DAYS", MemorySettings.API_TOKEN_DAYS, minimum=0)  # 0 = never expires
MEMORY_EMBEDDINGS_PROVIDER = env_str("MEMORY_EMBEDDINGS_PROVIDER", MemorySettings.EMBEDDINGS_PROVIDER)
MEMORY_EMBEDDINGS_MODEL_DIR = env_str("MEMORY_EMBEDDINGS_MODEL_DIR", MemorySettings.EMBEDDINGS_MODEL_DIR)
MEMORY_EMBEDDINGS_URL = env_str("MEMORY_EMBEDDINGS_URL", MemorySettings.EMBEDDINGS_URL)
MEMORY_EMBEDDINGS_MODEL = env_str("MEMORY_EMBEDDINGS_MODEL", MemorySettings.EMBEDDINGS_MODEL)
MEMORY_EMBEDDINGS_API_KEY = env_str("MEMORY_EMBEDDINGS_API_KEY", MemorySettings.EMBEDDINGS_API_KEY)
MEMORY_EMBEDDINGS_DIMENSIONS = env_int("MEMORY_EMBEDDINGS_DIMENSIONS", MemorySettings.EMBEDDINGS_DIMENSIONS, minimum=1)
MEMORY_EMBEDDINGS_BATCH_SIZE = env_int("MEMORY_EMBEDDINGS_BATCH_SIZE", MemorySettings.EMBEDDINGS_BATCH_SIZE, minimum=1)
MEMORY_EMBEDDINGS_TIMEOUT_SECONDS = env_float("MEMORY_EMBEDDINGS_TIMEOUT_SECONDS", MemorySettings.EMBEDDINGS_TIMEOUT_SECONDS, minimum=0.1)
MEMORY_CHATS_UPLOAD_MAX_BYTES = env_int("MEMORY_CHATS_UPLOAD_MAX_BYTES", MemorySettings.CHATS_UPLOAD_MAX_BYTES, minimum=1)
MEMORY_CHATS_UPLOAD_DIR = env_str("MEMORY_CHATS_UPLOAD_DIR", MemorySettings.CHATS_UPLOAD_DIR)  # empty: <ENGRAM_VAR_DIR>/chats/uploads
MEMORY_CHATS_AVATAR_MAX_BYTES = env_int("MEMORY_CHATS_AVATAR_MAX_BYTES", MemorySettings.CHATS_AVATAR_MAX_BYTES, minimum=1)
MEMORY_TELEGRAM_API_URL = env_str("MEMORY_TELEGRAM_API_URL", MemorySettings.TELEGRAM_API_URL)
MEMORY_LLM_PROVIDER = env_str("MEMORY_LLM_PROVIDER", MemorySettings.LLM_PROVIDER)
MEMORY_LLM_URL = env_str("MEMORY_LLM_URL", MemorySettings.LLM_URL)
MEMORY_LLM_MODEL = env_str("MEMORY_LLM_MODEL", MemorySettings.LLM_MODEL)
MEMORY_LLM_API_KEY = env_str("MEMORY_LLM_API_KEY", MemorySettings.LLM_API_KEY)
MEMORY_LLM_TIMEOUT_SECONDS = env_float("MEMORY_LLM_TIMEOUT_SECONDS", MemorySettings.LLM_TIMEOUT_SECONDS, minimum=0.1)

# --- posts (memory/posts/) ------------------------------------------------------------------

MEMORY_POSTS_TTL_DAYS = env_int("MEMORY_POSTS_TTL_DAYS", MemorySettings.POSTS_TTL_DAYS, minimum=0)
MEMORY_POSTS_TAGGER = env_str("MEMORY_POSTS_TAGGER", MemorySettings.POSTS_TAGGER)
MEMORY_POSTS_MAX_TAGS = env_int("MEMORY_POSTS_MAX_TAGS", MemorySettings.POSTS_MAX_TAGS, minimum=1)
MEMORY_POSTS_TAG_CACHE_SIZE = env_int("MEMORY_POSTS_TAG_CACHE_SIZE", MemorySettings.POSTS_TAG_CACHE_SIZE, minimum=1)
MEMORY_POSTS_TAG_CACHE_TTL_SECONDS = env_int("MEMORY_POSTS_TAG_CACHE_TTL_SECONDS", MemorySettings.POSTS_TAG_CACHE_TTL_SECONDS, minimum=1)
MEMORY_POSTS_TAG_DEDUP_TTL_SECONDS = env_int("MEMORY_POSTS_TAG_DEDUP_TTL_SECONDS", MemorySettings.POSTS_TAG_DEDUP_TTL_SECONDS, minimum=1)
MEMORY_POSTS_CLEANUP_BATCH_SIZE = env_int("MEMORY_POSTS_CLEANUP_BATCH_SIZE", MemorySettings.POSTS_CLEANUP_BATCH_SIZE, minimum=1)
MEMORY_POSTS_IMAGE_MAX_BYTES = env_int("MEMORY_POSTS_IMAGE_MAX_BYTES", MemorySettings.POSTS_IMAGE_MAX_BYTES, minimum=1)

# --- documents (memory/documents/) ----------------------------------------------------------

MEDIA_ROOT = Path(env_str("ENGRAM_MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
MEDIA_URL = "media/"  # never served directly: documents go through a view that checks membership
MEMORY_DOCUMENTS_MAX_BYTES = env_int("MEMORY_DOCUMENTS_MAX_BYTES", MemorySettings.DOCUMENTS_MAX_BYTES, minimum=1)
MEMORY_DOCUMENTS_MAX_UNCOMPRESSED_BYTES = env_int("MEMORY_DOCUMENTS_MAX_UNCOMPRESSED_BYTES", MemorySettings.DOCUMENTS_MAX_UNCOMPRESSED_BYTES, minimum=1)
MEMORY_DOCUMENTS_VALIDATION_THRESHOLD = env_float("MEMORY_DOCUMENTS_VALIDATION_THRESHOLD", MemorySettings.DOCUMENTS_VALIDATION_THRESHOLD, minimum=0.0)
MEMORY_DOCUMENTS_OCR_LANGUAGES = env_str("MEMORY_DOCUMENTS_OCR_LANGUAGES", MemorySettings.DOCUMENTS_OCR_LANGUAGES)
MEMORY_DOCUMENTS_BACKUP_DIR = Path(env_str("MEMORY_DOCUMENTS_BACKUP_DIR", str(VAR_DIR / "backups"))).resolve()
MEMORY_DOCUMENTS_BACKUP_KEEP = env_int("MEMORY_DOCUMENTS_BACKUP_KEEP", MemorySettings.DOCUMENTS_BACKUP_KEEP, minimum=1)
MEMORY_DOCUMENTS_BACKUP_MAX_AGE_DAYS = env_int("MEMORY_DOCUMENTS_BACKUP_MAX_AGE_DAYS", MemorySettings.DOCUMENTS_BACKUP_MAX_AGE_DAYS, minimum=1)
MEMORY_DOCUMENTS_SEARCH_CACHE_SECONDS = env_int("MEMORY_DOCUMENTS_SEARCH_CACHE_SECONDS", MemorySettings.DOCUMENTS_SEARCH_CACHE_SECONDS, minimum=0)

# --- posts: linked pages and the posts.parsed stream (memory/posts/fetch.py, stream.py) ---------

MEMORY_POSTS_FETCH_ALLOW_PRIVATE = env_bool("MEMORY_POSTS_FETCH_ALLOW_PRIVATE", MemorySettings.POSTS_FETCH_ALLOW_PRIVATE)
MEMORY_POSTS_FETCH_ALLOWED_NETWORKS = tuple(env_list("MEMORY_POSTS_FETCH_ALLOWED_NETWORKS", MemorySettings.POSTS_FETCH_ALLOWED_NETWORKS))
MEMORY_POSTS_FETCH_CONNECT_TIMEOUT_SECONDS = env_float("MEMORY_POSTS_FETCH_CONNECT_TIMEOUT_SECONDS", MemorySettings.POSTS_FETCH_CONNECT_TIMEOUT_SECONDS, minimum=0.1)
MEMORY_POSTS_FETCH_READ_TIMEOUT_SECONDS = env_float("MEMORY_POSTS_FETCH_READ_TIMEOUT_SECONDS", MemorySettings.POSTS_FETCH_READ_TIMEOUT_SECONDS, minimum=0.1)
MEMORY_POSTS_FETCH_TOTAL_TIMEOUT_SECONDS = env_float("MEMORY_POSTS_FETCH_TOTAL_TIMEOUT_SECONDS", MemorySettings.POSTS_FETCH_TOTAL_TIMEOUT_SECONDS, minimum=0.1)
MEMORY_POSTS_FETCH_MAX_BYTES = env_int("MEMORY_POSTS_FETCH_MAX_BYTES", MemorySettings.POSTS_FETCH_MAX_BYTES, minimum=1)
MEMORY_POSTS_FETCH_MAX_REDIRECTS = env_int("MEMORY_POSTS_FETCH_MAX_REDIRECTS", MemorySettings.POSTS_FETCH_MAX_REDIRECTS, minimum=0)
MEMORY_POSTS_FETCH_USER_AGENT = env_str("MEMORY_POSTS_FETCH_USER_AGENT", MemorySettings.POSTS_FETCH_USER_AGENT)
MEMORY_POSTS_FETCH_CA_BUNDLE = env_str("MEMORY_POSTS_FETCH_CA_BUNDLE", MemorySettings.POSTS_FETCH_CA_BUNDLE)
MEMORY_POSTS_STREAM_NAME = env_str("MEMORY_POSTS_STREAM_NAME", MemorySettings.POSTS_STREAM_NAME)
MEMORY_POSTS_STREAM_GROUP = env_str("MEMORY_POSTS_STREAM_GROUP", MemorySettings.POSTS_STREAM_GROUP)
MEMORY_POSTS_STREAM_CLAIM_IDLE_MS = env_int("MEMORY_POSTS_STREAM_CLAIM_IDLE_MS", MemorySettings.POSTS_STREAM_CLAIM_IDLE_MS, minimum=1)
MEMORY_POSTS_STREAM_BATCH = env_int("MEMORY_POSTS_STREAM_BATCH", MemorySettings.POSTS_STREAM_BATCH, minimum=1)
MEMORY_POSTS_STREAM_BLOCK_MS = env_int("MEMORY_POSTS_STREAM_BLOCK_MS", MemorySettings.POSTS_STREAM_BLOCK_MS, minimum=1)
MEMORY_POSTS_STREAM_MAX_ATTEMPTS = env_int("MEMORY_POSTS_STREAM_MAX_ATTEMPTS", MemorySettings.POSTS_STREAM_MAX_ATTEMPTS, minimum=1)
MEMORY_POSTS_STREAM_MAXLEN = env_int("MEMORY_POSTS_STREAM_MAXLEN", MemorySettings.POSTS_STREAM_MAXLEN, minimum=1)

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
# django-rq stays for `rqworker` and the queue configuration; its pages are not mounted (the ledger, not
# RQ's registries, knows which runs failed: see the Queues, Runs and Workers pages).
RQ_SHOW_ADMIN_LINK = False

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

# Members sign in on /accounts/login/ (staff keep the admin's login); see project/accounts.py.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Password-reset mail: printed on the console in development unless ENGRAM_EMAIL_HOST names an SMTP
# server; production sends through SMTP (localhost unless ENGRAM_EMAIL_HOST says otherwise).
DEFAULT_FROM_EMAIL = env_str("ENGRAM_DEFAULT_FROM_EMAIL", "engram@localhost")
_email_host = env_str("ENGRAM_EMAIL_HOST", "localhost" if PRODUCTION else "")
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _email_host,
            "port": env_int("ENGRAM_EMAIL_PORT", 587, minimum=1),
            "username": env_str("ENGRAM_EMAIL_USER", ""),
            "password": env_str("ENGRAM_EMAIL_PASSWORD", ""),
            "use_tls": env_bool("ENGRAM_EMAIL_USE_TLS", True),
        },
    } if _email_host else {"BACKEND": "django.core.mail.backends.console.EmailBackend"},
}

# Content-Security-Policy (Django's own middleware): no inline script anywhere; the pages' scripts
# are static files, and a template that must inline one uses the request's nonce. Styles may be
# inline (progress bars set their width in a style attribute; a style cannot run code).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Rate limits (project/ratelimit.py), counted in Redis through Django's cache: "N/SECONDS" per client
# address and per account name.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "engram",
    }
}
ENGRAM_LOGIN_RATE = env_str("ENGRAM_LOGIN_RATE", "10/300")
ENGRAM_TOKEN_RATE = env_str("ENGRAM_TOKEN_RATE", "600/60")

# LOG_FORMAT=json: one JSON object a line; plain: readable lines. Both carry run and request ids.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOGGING = logging_config(LOG_FORMAT, jobs_level=env_str("JOBS_LOG_LEVEL", JobsSettings.LOG_LEVEL),
                         memory_level=env_str("MEMORY_LOG_LEVEL", MemorySettings.LOG_LEVEL))
