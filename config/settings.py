"""Synkro's one settings module. Everything that differs between machines comes from the environment.

See ``.env.example`` for every variable, its default and what it is for.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for a development default).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Fernet keys (urlsafe base64, 32 bytes). Several, comma-separated, allow rotation: the first
# encrypts, all decrypt. A development key is derived from SECRET_KEY only when DEBUG is on.
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_filters",
    "django_q",
    "axes",
    "csp",
    "tenants",
    "integrations",
    "mappings",
    "support",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "integrations.url_secrets.SecretsInUrlMiddleware",
    # Webhook calls (a token, no person) skip the rest of the stack (integrations/webhooks.py).
    "integrations.webhooks.WebhookShortcutMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.NoStoreForSignedInMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it turns a locked-out login into the lockout page whatever view answered.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "tenants.context_processors.current_tenant",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'synkro.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and a qcluster share the file; writing transactions
    # queue at a gate instead of sleeping in SQLite's busy handler (config/db/sqlite/gate.py).
    DATABASES["default"]["ENGINE"] = "config.db.sqlite"
    # Tests run in memory, one database per test process (as with Django's own backend).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
# Connections are kept between requests: opening one (and, on SQLite, closing the last one, which
# checkpoints the WAL) would cost more than a webhook request's own work.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://synkro")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tenant-picker"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): every password login (the site's, the admin's) goes through the axes
# backend; failures are counted in the database, so all processes and machines share one count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# After this many failed logins from one client address, or for one (normalised) username, further
# attempts are refused with 429 until the cool-off has passed.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_USERNAME_CALLABLE = "tenants.login.throttle_username"
AXES_CLIENT_IP_CALLABLE = "tenants.login.client_address"
AXES_LOCKOUT_CALLABLE = "tenants.login.lockout_response"
# A success from one address must not wipe the failures counted against another user's name.
AXES_RESET_ON_SUCCESS = False
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Copenhagen")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it, even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or not env.bool("STATIC_MANIFEST", default=True)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# HTTPS. Behind a proxy that ends TLS, set BEHIND_PROXY=true: the proxy's X-Forwarded-Proto then tells
# Django the request was secure, and the client address is read from X-Forwarded-For (PROXY_COUNT proxies).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
PROXY_COUNT = env.int("PROXY_COUNT", default=1) if BEHIND_PROXY else 0
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS (the default unless DEBUG; SECURE_COOKIES=false turns all of it off for plain-HTTP use):
# redirect plain HTTP, and tell browsers to use HTTPS only for a year (HSTS).
SERVED_OVER_HTTPS = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SERVED_OVER_HTTPS)
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SERVED_OVER_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SERVED_OVER_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SERVED_OVER_HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, images and connections from Synkro itself only;
# no inline scripts or styles anywhere (templates use classes from static/css and scripts from static/js).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# The largest request body read into memory: forms, and (tenants/parsers.py) the REST API's JSON and forms.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a bad token answers 401 with WWW-Authenticate rather than 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # ?limit= is clamped to 200 rows (tenants/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "tenants.pagination.TenantPages",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "PAGE_SIZE": 50,
    # JSON and form bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are refused with 413 before they are read.
    "DEFAULT_PARSER_CLASSES": [
        "tenants.parsers.BoundedJSONParser",
        "tenants.parsers.BoundedFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Synkro API",
    "DESCRIPTION": "Configure and inspect Synkro's CRM ↔ ERP sync per tenant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The description of the API is for signed-in users (session or token) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Schema quality is checked by tests/api (schemathesis), not by `manage.py check --deploy`, which is kept
    # for the deployment's security checks.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# django-q2: the ORM broker by default (nothing else to run); Q_BROKER=redis://... scales out.
Q_BROKER = env.str("Q_BROKER", default="orm")
Q_CLUSTER: dict = {
    "name": "synkro",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=300),
    "retry": env.int("Q_RETRY", default=360),
    "max_attempts": 1,
    "queue_limit": 100,
    "bulk": 10,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Task queue",
    # Live work (webhook and stream notices, retries, the every-minute recovery, webhook (un)registration) has a
    # queue and workers of its own, so it never waits behind imports and reconciliations: run a second
    # `Q_CLUSTER_NAME=synkro-live manage.py qcluster` beside the first.
    "ALT_CLUSTERS": {"synkro-live": {"workers": env.int("Q_LIVE_WORKERS", default=1), "timeout": 120, "retry": 180}},
}
#: The queue (django-q2 cluster name) of live work; the default cluster takes bulk work and the schedules.
Q_LIVE_CLUSTER = "synkro-live"
#: Each worker process runs a keeper thread renewing its short leases and taking up what dead workers left
#: (integrations/keeper.py). Off only where no worker runs (the test suite drives the engine by hand).
LEASE_KEEPER = env.bool("LEASE_KEEPER", default=True)
# django-q2's own brokers, whose live queue also takes up the events webhooks stored without a task
# (integrations/brokers.py): a webhook call writes its event and nothing else.
if Q_BROKER.startswith(("redis://", "rediss://", "unix://")):
    Q_CLUSTER["redis"] = Q_BROKER
    Q_CLUSTER["broker_class"] = "integrations.brokers.RedisBroker"
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = env.float("Q_POLL", default=0.2)
    Q_CLUSTER["broker_class"] = "integrations.brokers.OrmBroker"

# The external systems Synkro knows, found through integrations.systems.registry.
SYNKRO_SYSTEMS = [
    "integrations.systems.webcrm",
    "integrations.systems.uniconta",
    "integrations.systems.fortnox",
    "integrations.systems.vismanet",
    "integrations.systems.customers1st",
]
# Mount the vendor simulators under /sandbox/<system>/ (on for `make run`, off in production).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
# Let connections reach private, loopback and link-local addresses (development and tests only).
ALLOW_PRIVATE_VENDOR_HOSTS = env.bool("ALLOW_PRIVATE_VENDOR_HOSTS", default=DEBUG)
# Webhook bodies larger than this are refused with 413 before they are read.
WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=1024 * 1024)
# Notices one webhook call may carry; a call with more is refused with 413 and nothing stored.
WEBHOOK_MAX_NOTICES = env.int("WEBHOOK_MAX_NOTICES", default=1000)
# The address the outside world reaches Synkro at; used to show webhook URLs and as the base of the Fortnox
# app's redirect URI (<PUBLIC_BASE_URL>/connections/fortnox/return/).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# The Fortnox app ("Connect to Fortnox") from Fortnox's Developer Portal; never shown. Connections to the sandbox use
# the sandbox's demo app instead.
FORTNOX_CLIENT_ID = env.str("FORTNOX_CLIENT_ID", default="")
FORTNOX_CLIENT_SECRET = env.str("FORTNOX_CLIENT_SECRET", default="")
# Where alert digests are sent through (alerts/digest.py): an e-mail URL, e.g. smtp+tls://user:password@host:587;
# consolemail:// writes them to the console. Default: the console when DEBUG, else an SMTP server on localhost.
vars().update(env.email("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Synkro <synkro@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# A webhook URL's token is its credential: every handler takes it out of what it writes (config/logredact.py).
# Django's own loggers are named so that they lose the default handlers (and the mail to ADMINS) that bypass it.
# Each event is written once: a refused request (4xx) is one line without a traceback, and the development
# server's access line is left out where Django's request logger has already said it (config/requestlog.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "webhook_tokens": {"()": "config.logredact.WebhookTokenFilter"},
        "client_errors_in_one_line": {"()": "config.requestlog.ClientErrorsInOneLine"},
        # The sandboxes answer under /sandbox/ outside Django (config/wsgi.py): only the access line tells of them.
        "access_line_unless_django_said_it": {"()": "config.requestlog.AccessLineUnlessDjangoSaidIt",
                                              "outside_django": ["/sandbox/"]},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                          "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["webhook_tokens"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["access_line_unless_django_said_it", "webhook_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"handlers": [], "level": "INFO", "propagate": True,
                           "filters": ["client_errors_in_one_line"]},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
