"""Settings shared by every environment.

Everything that differs between a laptop and production is read from the environment
(django-environ). The defaults here are the embedded ones: SQLite, in-process cache and
sessions, eager Celery, console email, so `make demo` needs nothing but Python.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE

from portal.redis_pool import broker_url, master_name, sentinel_addresses

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-secret-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# How many reverse proxies in front of the app append to X-Forwarded-For. The client IP is
# the right-most address those proxies did not add, so a client cannot choose it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    # Portal apps
    "portal",
    "accounts",
    "tenants",
    "home",
    "organisations",
    "missions",
    "conversations",
    "moderation",
    "search",
    "emails",
    "dashboards",
    # Wagtail
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Third parties
    "django_otp",  # staff two-factor (accounts/staff.py)
    "django_otp.plugins.otp_totp",
    "dsfr",
    "ninja",  # its API docs from our static files, not a CDN (CSP: same origin only)
    "anymail",
    "health_check",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django.forms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.cache.DefaultPrivateMiddleware",
    "portal.csp.PortalCSPMiddleware",  # after the line above: it may turn a response private
    "portal.middleware.ClientIPMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",  # the admin needs a verified device
    "accounts.account_area.AccountHintMiddleware",  # the `signed_in` cookie account.js reads
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.AdminPermissionDeniedMiddleware",
    "tenants.middleware.TranslationScopeMiddleware",  # translating a page needs editing it
    "portal.replica.ReplicaReadsMiddleware",  # only with DATABASE_REPLICA_URL
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tenants.context_processors.portal",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "portal.wsgi.application"

# --- Database -------------------------------------------------------------------------------
# Persistent connections with health checks: a new PostgreSQL connection per request costs
# ~11 ms here and caps writes at ~90/s instead of ~835/s.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A streaming replica for the public read paths of a spike (portal/replica.py): search,
# mission and organisation pages, the missions API. Unset: everything reads the primary.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
REPLICA_MAX_LAG = env.float("REPLICA_MAX_LAG", default=5.0)  # seconds; then the primary
REPLICA_CHECK_INTERVAL = env.float("REPLICA_CHECK_INTERVAL", default=1.0)  # per process
REPLICA_STICKY_SECONDS = env.int("REPLICA_STICKY_SECONDS", default=15)  # read-your-writes


def replica_database(default: dict) -> dict:
    """The `replica` alias when one is configured (the test run mirrors the primary)."""
    if not DATABASE_REPLICA_URL:
        return {}
    replica = env.db_url_config(DATABASE_REPLICA_URL)
    replica.update(
        CONN_MAX_AGE=default.get("CONN_MAX_AGE", 0),
        CONN_HEALTH_CHECKS=True,
        TEST={"MIRROR": "default"},
    )
    return {"replica": replica}


DATABASES.update(replica_database(DATABASES["default"]))
DATABASE_ROUTERS = ["portal.replica.ReplicaRouter"] if DATABASE_REPLICA_URL else []

# --- Cache and sessions ---------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
SESSION_REDIS_URL = env("SESSION_REDIS_URL", default=REDIS_URL)
# Redis Sentinel (portal/redis_pool.py), "host:port,host:port": set, every Redis URL above and
# below names a master the sentinels watch instead of a server (redis://cache/0,
# redis://sessions/1), and each connection goes to that master wherever it is now.
REDIS_SENTINELS = sentinel_addresses(env.list("REDIS_SENTINELS", default=[]))


def redis_cache(url: str, *, optional: bool, sentinels=()) -> dict:
    """A django-redis cache with short timeouts.

    `optional`: a Redis error is a miss on read and a skipped write (django-redis'
    IGNORE_EXCEPTIONS, logged once a minute below), so losing the cache costs speed, never a
    page. Sessions are not optional: a failed read must not pass for "signed out"
    (portal.sessions turns it into a 503).
    `sentinels`: the URL names a Sentinel master; reads and writes go to the master only
    (its replica is there to take over, not to serve reads a moment stale).
    """
    options = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "CONNECTION_POOL_CLASS": "portal.redis_pool.CircuitBreakerConnectionPool",
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 1,
        "IGNORE_EXCEPTIONS": optional,
    }
    if sentinels:
        master_name(url)  # a server's URL here is a mistake: say so at start-up
        options.update(
            CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
            CONNECTION_POOL_CLASS="portal.redis_pool.CircuitBreakerSentinelPool",
            SENTINELS=sentinels,
        )
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": options,
        "KEY_PREFIX": "portal",
    }


def redis_caches(cache_url: str, session_url: str, sentinels=REDIS_SENTINELS) -> dict:
    return {
        "default": redis_cache(cache_url, optional=True, sentinels=sentinels),
        "sessions": redis_cache(session_url, optional=False, sentinels=sentinels),
        # The rate limiter's counters: optional too, so the limiter fails open.
        "ratelimit": redis_cache(cache_url, optional=True, sentinels=sentinels),
    }


if REDIS_URL:
    CACHES = redis_caches(REDIS_URL, SESSION_REDIS_URL)
else:
    CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias}
        for alias in ("default", "sessions", "ratelimit")
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
SESSION_ENGINE = "portal.sessions"  # the cache store, minus "Redis down = signed out"
SESSION_CACHE_ALIAS = "sessions"

# --- Signup stream (accounts/signup_stream.py) -----------------------------------------------
# On: a signup is appended to a Redis stream and answered 202 without SQL; `manage.py
# consume_signups` writes the accounts in batches. The stream lives on the non-evicting Redis
# that keeps sessions (append-only file on): an evicting Redis would drop accepted signups.
SIGNUP_STREAM = env.bool("SIGNUP_STREAM", default=False)
SIGNUP_STREAM_URL = env("SIGNUP_STREAM_URL", default=SESSION_REDIS_URL)
SIGNUP_STREAM_KEY = env("SIGNUP_STREAM_KEY", default="portal:signups")
SIGNUP_STREAM_BATCH = env.int("SIGNUP_STREAM_BATCH", default=500)
SIGNUP_STREAM_BATCH_WAIT_MS = env.int("SIGNUP_STREAM_BATCH_WAIT_MS", default=50)
# An entry read by a consumer that has not acknowledged it for this long is taken over
# (XAUTOCLAIM): the consumer is presumed dead. Longer than the slowest batch.
SIGNUP_STREAM_CLAIM_IDLE_MS = env.int("SIGNUP_STREAM_CLAIM_IDLE_MS", default=30_000)
# /healthz says "degraded" (and the admin shows it) once the oldest waiting signup is older.
SIGNUP_STREAM_MAX_LAG = env.float("SIGNUP_STREAM_MAX_LAG", default=10.0)

# --- Celery ---------------------------------------------------------------------------------
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
_BROKER_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    # Publishing (signup, application) tries the broker twice, not for 2 s: a broker that is
    # down costs a request ~3 ms, and the outbox sweeper sends what was not published.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.05,
}


def celery_broker(url: str, sentinels=REDIS_SENTINELS) -> tuple[str, dict]:
    """Celery's broker URL and transport options for a Redis URL; behind Sentinel, kombu's
    form: one sentinel:// per sentinel, and the master's name in the options."""
    if not sentinels or not url.startswith(("redis://", "rediss://")):
        return url, _BROKER_OPTIONS
    options = {**_BROKER_OPTIONS, "master_name": master_name(url)}
    return broker_url(url, sentinels), options


CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE = {
    "purge-unconfirmed-accounts": {
        "task": "accounts.tasks.purge_unconfirmed_accounts",
        "schedule": 3600.0,
    },
    "close-ended-missions": {"task": "missions.tasks.close_ended_missions", "schedule": 3600.0},
    "mission-reminders": {"task": "missions.tasks.send_reminders", "schedule": 6 * 3600.0},
    "mission-followups": {"task": "missions.tasks.send_followups", "schedule": 6 * 3600.0},
    # Daily digests, in the morning (each keyed by its day: an extra run sends nothing twice).
    "moderator-digests": {
        "task": "moderation.tasks.send_moderator_digests",
        "schedule": crontab(hour=7, minute=30),
    },
    "team-digests": {
        "task": "missions.tasks.send_team_digests",
        "schedule": crontab(hour=8, minute=0),
    },
    "purge-old-emails": {"task": "emails.tasks.purge_old_emails", "schedule": 24 * 3600.0},
    "sweep-outbox": {
        "task": "emails.tasks.sweep_outbox",
        "schedule": env.float("EMAIL_SWEEP_INTERVAL", default=30.0),
    },
}

# --- Email ----------------------------------------------------------------------------------
BREVO_API_KEY = env("BREVO_API_KEY", default="")
BREVO_API_URL = env("BREVO_API_URL", default="https://api.brevo.com/v3/")
ANYMAIL = {
    "BREVO_API_KEY": BREVO_API_KEY,
    "BREVO_API_URL": BREVO_API_URL,
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
    # (connect, read) seconds: a hung Brevo must not pin a worker for the 30 s default.
    "REQUESTS_TIMEOUT": (3.05, env.float("EMAIL_API_TIMEOUT", default=10.0)),
}
if BREVO_API_KEY:
    EMAIL_BACKEND = "emails.backends.EmailBackend"  # Anymail's Brevo backend, batch-aware
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Je veux aider <ne-pas-repondre@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (emails app): see README, "Email".
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=50)  # emails per Brevo API call
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=25)
EMAIL_RETRY_BASE_DELAY = env.float("EMAIL_RETRY_BASE_DELAY", default=5.0)  # seconds, doubled
EMAIL_RETRY_MAX_DELAY = env.float("EMAIL_RETRY_MAX_DELAY", default=900.0)
EMAIL_LEASE_SECONDS = env.int("EMAIL_LEASE_SECONDS", default=120)  # then the sweeper re-sends
EMAIL_SWEEP_GRACE = env.float("EMAIL_SWEEP_GRACE", default=10.0)  # leave fresh rows to on_commit
EMAIL_RETENTION_DAYS = env.int("EMAIL_RETENTION_DAYS", default=90)  # then finished rows go
# A new message in a thread: emailed after this delay (a reply read meanwhile cancels it), at
# most one email per thread and side in each window (conversations.services.schedule_notice).
MESSAGE_NOTICE_DELAY = env.int("MESSAGE_NOTICE_DELAY", default=60)
MESSAGE_NOTICE_WINDOW = env.int("MESSAGE_NOTICE_WINDOW", default=15 * 60)
# Links in emails and canonical URLs: https in production.
PORTAL_PUBLIC_SCHEME = env("PORTAL_PUBLIC_SCHEME", default="http")

# Where vulnerabilities are reported (/.well-known/security.txt, README "Security");
# unset: securite@ the portal's own domain.
SECURITY_CONTACT = env("SECURITY_CONTACT", default="")

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Argon2 for passwords set in the volunteer space; signup itself hashes nothing.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:space"
# Rate limits (django-ratelimit, counters in Redis). "N/s|m|h|d".
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True
SIGNUP_RATE_PER_IP = env("SIGNUP_RATE_PER_IP", default="30/m")
SIGNUP_RATE_PER_EMAIL = env("SIGNUP_RATE_PER_EMAIL", default="5/h")
# Sign-in links: per address from one IP (429), per address from everywhere (then sent no more,
# same answer): see accounts.ratelimits.check_signin_link.
SIGNIN_LINK_RATE_PER_EMAIL_IP = env("SIGNIN_LINK_RATE_PER_EMAIL_IP", default="5/h")
SIGNIN_LINK_RATE_PER_EMAIL = env("SIGNIN_LINK_RATE_PER_EMAIL", default="20/h")
# Email a signed-in user makes the portal send (email change, invitations).
USER_EMAIL_RATE_PER_USER = env("USER_EMAIL_RATE_PER_USER", default="10/h")
USER_EMAIL_RATE_PER_TARGET = env("USER_EMAIL_RATE_PER_TARGET", default="3/h")
ORGANISATION_CREATE_RATE_PER_USER = env("ORGANISATION_CREATE_RATE_PER_USER", default="5/d")
# Visitors' reports of missions: per IP, and per IP on one mission.
MISSION_REPORT_RATE_PER_IP = env("MISSION_REPORT_RATE_PER_IP", default="10/h")
MISSION_REPORT_RATE_PER_MISSION_IP = env("MISSION_REPORT_RATE_PER_MISSION_IP", default="2/d")
MESSAGE_RATE_PER_USER_MINUTE = env("MESSAGE_RATE_PER_USER_MINUTE", default="6/m")
MESSAGE_RATE_PER_USER_HOUR = env("MESSAGE_RATE_PER_USER_HOUR", default="60/h")
# Password sign-in (public and admin): attempts per IP, failures per account from one IP and
# from everywhere; second-factor codes per account.
LOGIN_RATE_PER_IP = env("LOGIN_RATE_PER_IP", default="20/m")
LOGIN_RATE_PER_ACCOUNT_IP = env("LOGIN_RATE_PER_ACCOUNT_IP", default="5/15m")
LOGIN_RATE_PER_ACCOUNT = env("LOGIN_RATE_PER_ACCOUNT", default="50/h")
OTP_RATE_PER_USER = env("OTP_RATE_PER_USER", default="10/15m")
# Staff two-factor (accounts/staff.py): False in production, where a staff account without a
# device enrols through a link emailed to its address (password + mailbox), not on first
# sign-in (a stolen password alone would enrol the thief's phone).
TWO_FACTOR_ENROL_AT_SIGN_IN = env.bool("TWO_FACTOR_ENROL_AT_SIGN_IN", default=False)
OTP_TOTP_ISSUER = "Je veux aider"
# Account links sent by email.
ACCOUNT_CONFIRMATION_MAX_AGE = env.int("ACCOUNT_CONFIRMATION_MAX_AGE", default=48 * 3600)
ACCOUNT_SIGNIN_LINK_MAX_AGE = env.int("ACCOUNT_SIGNIN_LINK_MAX_AGE", default=15 * 60)
ACCOUNT_UNCONFIRMED_PURGE_DAYS = env.int("ACCOUNT_UNCONFIRMED_PURGE_DAYS", default=7)

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = WAGTAIL_CONTENT_LANGUAGES = [("fr", "Français"), ("en", "English")]
WAGTAIL_I18N_ENABLED = True
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Wagtail --------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Portail"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default="http://localhost:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
# No subresource integrity on DSFR's files: django-dsfr's hashes are those of the original
# files, which the manifest storage rewrites (url()s), so browsers refused the stylesheet and
# every production page was unstyled. SRI protects files from another origin; these are ours.
DSFR_USE_INTEGRITY_CHECKSUMS = False

# --- Content-Security-Policy (django-csp; portal/csp.py, README "Security") ------------------
# Public pages: no inline script or style at all (they are cached for everyone, so no nonce
# either); NONCE only appears in the header of a page that used request.csp_nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The Wagtail admin writes inline scripts and styles: 'unsafe-inline' there only, everything
# else as strict (same origin only, no plugins, no <base>, framed by itself for previews).
CSP_ADMIN_PATHS = ["/admin/"]
CSP_ADMIN_DIRECTIVES = {
    **CONTENT_SECURITY_POLICY["DIRECTIVES"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "frame-src": ["'self'"],
    "frame-ancestors": ["'self'"],
}
# No Gravatar in the admin: it would send a hash of each staff address to a third party.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Nor a call to releases.wagtail.org from editors' browsers: upgrades go through the lock file.
WAGTAIL_ENABLE_UPDATE_CHECK = False

# --- Missions -------------------------------------------------------------------------------
GEOCODER = env("GEOCODER", default="missions.geocoding.BanGeocoder")
BAN_API_URL = env("BAN_API_URL", default="https://api-adresse.data.gouv.fr/")
GEOCODER_TIMEOUT = env.float("GEOCODER_TIMEOUT", default=3.0)
GEOCODER_RETRIES = env.int("GEOCODER_RETRIES", default=2)

# Text search of missions: "postgres" (full text in the missions table), or the alias of a
# Wagtail search backend (WAGTAILSEARCH_BACKENDS), e.g. an Elasticsearch/OpenSearch one.
MISSION_SEARCH_BACKEND = env("MISSION_SEARCH_BACKEND", default="postgres")

# --- CDN ------------------------------------------------------------------------------------
CDN_S_MAXAGE = env.int("CDN_S_MAXAGE", default=60)
CDN_STALE_WHILE_REVALIDATE = env.int("CDN_STALE_WHILE_REVALIDATE", default=300)
# The anonymous page cache in front of Django (portal/pagecache.py); needs Redis.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=bool(REDIS_URL))
PAGE_CACHE_TTL = env.int("PAGE_CACHE_TTL", default=300)
PAGE_CACHE_MEMORY_TTL = env.float("PAGE_CACHE_MEMORY_TTL", default=2.0)
PAGE_CACHE_VERSION_TTL = env.float("PAGE_CACHE_VERSION_TTL", default=1.0)
# The query parameters public pages read (search pages; a test checks search.missions.SearchForm
# reads no other): the page cache keys on these only (portal/pagecache.py).
PAGE_CACHE_QUERY_PARAMS = [
    "q",
    "query",
    "page",
    "lat",
    "lng",
    "radius_km",
    "postal_code",
    "domain",
    "activity",
    "remote",
    "date_from",
    "date_to",
    "audience",
    "sort",
]
# Paths whose answers are mission data (search, mission and organisation pages): their page
# cache keys carry the search index version too, so a change shows within the version TTL.
PAGE_CACHE_DATA_PATHS = [
    r"^/api/v1/missions$",
    r"^/(fr|en)/missions/",
    r"^/(fr|en)/organisations/",
]
# Purge of the CDN (Cloudflare) after publishing or a settings change; off when unset.
CLOUDFLARE_ZONE_ID = env("CLOUDFLARE_ZONE_ID", default="")
CLOUDFLARE_API_TOKEN = env("CLOUDFLARE_API_TOKEN", default="")
CLOUDFLARE_API_URL = env("CLOUDFLARE_API_URL", default="https://api.cloudflare.com/client/v4/")
WAGTAILFRONTENDCACHE = (
    {
        "cloudflare": {
            "BACKEND": "portal.purge.CloudflareBackend",
            "ZONEID": CLOUDFLARE_ZONE_ID,
            "BEARER_TOKEN": CLOUDFLARE_API_TOKEN,
            "API_URL": CLOUDFLARE_API_URL,
        }
    }
    if CLOUDFLARE_ZONE_ID
    else {}
)

# --- Tenancy --------------------------------------------------------------------------------
# Seconds a web process may keep a stale hostname map: a domain switch is live everywhere
# within this TTL plus the page cache's version TTL (1 s), inside the promised 5 s.
TENANT_HOST_MAP_TTL = env.int("TENANT_HOST_MAP_TTL", default=4)
# Hostnames a portal may move to (tenants.validators.domain_allowed): ".gouv.fr" allows gouv.fr
# and every name under it, "jeveuxaider.fr" that name only. Unset: no portal can move.
PORTAL_DOMAINS = env.list("PORTAL_DOMAINS", default=[])
# Paths answered whatever the Host (load balancers probe by IP).
TENANT_EXEMPT_PATHS = ["/healthz", "/anymail/", "/_ping"]

# What fails on every request during an outage is logged once a minute (portal/logging.py).
OUTAGE_LOGGERS = [
    "django_redis.cache",  # DJANGO_REDIS_LOGGER: the ignored cache errors
    "portal.pagecache",
    "accounts.ratelimits",
    "emails.outbox",
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "once_a_minute": {"()": "portal.logging.OncePerInterval", "seconds": 60},
        "503_once_a_minute": {
            "()": "portal.logging.OncePerInterval",
            "seconds": 60,
            "status_code": 503,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        **{name: {"filters": ["once_a_minute"]} for name in OUTAGE_LOGGERS},
        "django.request": {"filters": ["503_once_a_minute"]},
        "django.db.backends": {"level": "WARNING"},
        # One INFO line per page save and per background task drowns the useful lines.
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
    },
}
