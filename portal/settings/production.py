"""Production: every secret from the environment, and a loud failure when one is missing."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import celery_broker, env, master_name, redis_caches, replica_database


def required(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required in production "
            "(see the configuration table in README.md)."
        )
    return value


DEBUG = False
SECRET_KEY = required("SECRET_KEY")
DATABASES = {"default": env.db_url_config(required("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES.update(replica_database(DATABASES["default"]))

REDIS_URL = required("REDIS_URL")
# Sessions and the broker must live on a non-evicting Redis: the cache Redis evicts (LRU), and
# would sign volunteers out and drop queued tasks. Sharing it takes an explicit opt-in.
SESSION_REDIS_URL = env("SESSION_REDIS_URL", default=REDIS_URL)
CACHES = redis_caches(REDIS_URL, SESSION_REDIS_URL)
_broker = env("CELERY_BROKER_URL", default=REDIS_URL)
# Accepted signups wait there until written (accounts/signup_stream.py): never evicted either.
SIGNUP_STREAM_URL = env("SIGNUP_STREAM_URL", default=SESSION_REDIS_URL)
ALLOW_SHARED_CACHE_REDIS = env.bool("ALLOW_SHARED_CACHE_REDIS", default=False)


def redis_server(url: str) -> tuple:
    """Which Redis server a URL names: the database number does not matter, eviction is
    server-wide."""
    parts = urlsplit(url)
    return (parts.hostname or parts.path, parts.port or 6379)


for _name, _url in (
    ("SESSION_REDIS_URL", SESSION_REDIS_URL),
    ("CELERY_BROKER_URL", _broker),
    ("SIGNUP_STREAM_URL", SIGNUP_STREAM_URL),
):
    if (
        _url.startswith(("redis://", "rediss://", "unix://"))
        and redis_server(_url) == redis_server(REDIS_URL)
        and not ALLOW_SHARED_CACHE_REDIS
    ):
        raise ImproperlyConfigured(
            f"{_name} points at the cache Redis ({REDIS_URL}), which evicts keys: give it a "
            "Redis of its own (noeviction, append-only), or set ALLOW_SHARED_CACHE_REDIS=true "
            "if that Redis never evicts."
        )
if REDIS_SENTINELS:  # noqa: F405 - the cache, sessions and broker URLs are checked in base
    master_name(SIGNUP_STREAM_URL)
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(_broker)
CELERY_TASK_ALWAYS_EAGER = False
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=True)
PORTAL_PUBLIC_SCHEME = "https"

# TLS ends at the proxy, which says so with X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
