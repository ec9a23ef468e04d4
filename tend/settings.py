"""Django settings for Tend.

Everything an operator may change comes from the environment; the README lists each
variable. Defaults give a working single-machine install on SQLite under ``./data``.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DATA_DIR = Path(os.environ.get("TEND_DATA_DIR") or BASE_DIR / "data").resolve()
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# A development key is generated per data directory so a fresh clone runs without
# configuration; production sets SECRET_KEY (``check --deploy`` refuses weak keys).
SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY:
    from tend.lib.secret import development_secret_key

    SECRET_KEY = development_secret_key(DATA_DIR)

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "tend.jobs",
    "tend.workspaces",
    "tend.outbox",
    "tend.events",
    "tend.accounts",
    "tend.notifications",
    "tend.usage",
    "tend.hub",
    "tend.health",
    "tend.segments",
    "tend.work",
    "tend.plays",
    "tend.alerts",
    "tend.digest",
    "tend.webhooks",
    "tend.web",
    "tend.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tend.lib.limits.RequestSizeLimitMiddleware",
    "tend.lib.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tend.workspaces.middleware.WorkspaceMiddleware",
    # After WorkspaceMiddleware: both need to know the caller, and run inside its scope.
    "tend.workspaces.ratelimit.RateLimitMiddleware",
    "tend.workspaces.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "tend.urls"
WSGI_APPLICATION = "tend.wsgi.application"

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
                "tend.web.context.navigation",
                "tend.notifications.context.bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite by default (WAL, IMMEDIATE transactions, synchronous=FULL: see DESIGN
# "Reliability decisions"); PostgreSQL when DATABASE_URL says so.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tend.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0 if _db["NAME"] == ":memory:" else _db["CONN_MAX_AGE"]
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=FULL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA cache_size=-64000;"
        ),
    }
    # Tests use a file (not :memory:) so worker subprocesses and the browser's live server
    # see the same database through real WAL, as production does.
    _db["TEST"] = {"NAME": os.environ.get("TEND_TEST_SQLITE_NAME") or str(DATA_DIR / "test.sqlite3")}
else:
    _db.setdefault("TEST", {})
DATABASES = {"default": _db}
IS_POSTGRES = _db["ENGINE"].startswith("django.db.backends.postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "workspaces.User"

# --- Cache (rate limits, idempotency hot path) -------------------------------------------
# Per-process memory by default; set REDIS_URL so several web processes share one limiter.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tend"}}

# --- Auth and sessions ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "workspaces:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "workspaces:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Production hardening: on when DEBUG is off and TEND_HTTPS says the site is served over TLS.
if env_bool("TEND_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Email: everything Tend sends goes through the outbox (docs/outbox.md) -------------------
# EMAIL_URL: smtp://user:pass@host:587?tls=1, smtps://…, file:///dir or console://. Unset, the
# outbox keeps each message in the database and as an .eml file under TEND_MAIL_DIR, and
# sends nothing anywhere: the demo works without a mail server.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
TEND_MAIL_DIR = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tend@localhost")
# Django's own mail (none of Tend's code calls it) lands beside the outbox's files.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = DATA_DIR / "mail" / "django"
# Where members reach Tend (https://tend.example.com): links in alert emails start with it;
# unset, they are paths.
TEND_BASE_URL = os.environ.get("TEND_BASE_URL", "").rstrip("/")

# --- API limits ------------------------------------------------------------------------------
# Request bodies: bulk upserts of 10,000+ objects are a few MB; beyond this answer 413.
TEND_MAX_BODY_BYTES = env_int("TEND_MAX_BODY_BYTES", 32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = TEND_MAX_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000
TEND_BULK_MAX_ITEMS = env_int("TEND_BULK_MAX_ITEMS", 50000)
# Imports (tend/hub): uploaded files live on disk here, up to TEND_IMPORT_MAX_BYTES; the
# upload routes below may send bodies that large (the multipart overhead is allowed for).
TEND_IMPORT_DIR = Path(os.environ.get("TEND_IMPORT_DIR") or DATA_DIR / "imports").resolve()
TEND_IMPORT_MAX_BYTES = env_int("TEND_IMPORT_MAX_BYTES", 100 * 1024 * 1024)
TEND_IMPORT_CHUNK = env_int("TEND_IMPORT_CHUNK", 2000)
TEND_LARGE_BODY_PATHS = ("/api/v1/imports", "/data/imports/new")
# Touchpoint attachments (tend/work): files on disk here, each up to this size (a request
# carrying several stays under TEND_MAX_BODY_BYTES), at most TEND_ATTACHMENTS_PER_TOUCHPOINT.
TEND_ATTACHMENT_DIR = Path(
    os.environ.get("TEND_ATTACHMENT_DIR") or DATA_DIR / "attachments"
).resolve()
TEND_ATTACHMENT_MAX_BYTES = env_int("TEND_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
TEND_ATTACHMENTS_PER_TOUCHPOINT = env_int("TEND_ATTACHMENTS_PER_TOUCHPOINT", 10)
# Requests per minute per token (or per member for session calls).
TEND_RATE_LIMIT_PER_MINUTE = env_int("TEND_RATE_LIMIT_PER_MINUTE", 6000)
TEND_PAGE_SIZE_DEFAULT = 100
TEND_PAGE_SIZE_MAX = 1000

# --- Segments ----------------------------------------------------------------------------------
# Dynamic segments are evaluated again at least this often (seconds) when plays or alerts use
# them, and at least every TEND_SEGMENT_IDLE_REFRESH_SECONDS otherwise (docs/segments.md).
TEND_SEGMENT_REFRESH_SECONDS = env_int("TEND_SEGMENT_REFRESH_SECONDS", 60)
TEND_SEGMENT_IDLE_REFRESH_SECONDS = env_int("TEND_SEGMENT_IDLE_REFRESH_SECONDS", 60)
# Counts and segment evaluations read a per-process column cache of each workspace's accounts
# when the condition allows (tend/accounts/columns.py); 0 sends every one to the database.
# The cache holds at most TEND_SEGMENT_CACHE_MB per process, least recently used dropped first.
TEND_SEGMENT_CACHE = env_bool("TEND_SEGMENT_CACHE", True)
TEND_SEGMENT_CACHE_MB = env_int("TEND_SEGMENT_CACHE_MB", 512)
# A workspace's entry (or a column it lacks) is read by a background thread while the database
# answers, when the workspace has more accounts than TEND_SEGMENT_CACHE_INLINE_ACCOUNTS; smaller
# ones are read inline. TEND_SEGMENT_CACHE_BACKGROUND=0 reads every one inline.
TEND_SEGMENT_CACHE_BACKGROUND = env_bool("TEND_SEGMENT_CACHE_BACKGROUND", True)
TEND_SEGMENT_CACHE_INLINE_ACCOUNTS = env_int("TEND_SEGMENT_CACHE_INLINE_ACCOUNTS", 20_000)

# Outgoing HTTP (webhooks, Slack) refuses private, loopback and link-local targets; a
# self-hoster may allow networks and host names here, comma-separated (docs/outgoing-http.md).
TEND_OUTGOING_ALLOW = os.environ.get("TEND_OUTGOING_ALLOW", "")
# Outgoing webhooks (tend/webhooks, docs/webhooks.md): each attempt's hard total deadline.
TEND_WEBHOOK_DEADLINE_SECONDS = float(os.environ.get("TEND_WEBHOOK_DEADLINE_SECONDS", "15"))
# Keys that encrypt stored secrets (webhook signing secrets), comma-separated, newest first;
# empty: derived from SECRET_KEY (tend/lib/sealing.py).
TEND_SECRETS_KEYS = os.environ.get("TEND_SECRETS_KEYS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
