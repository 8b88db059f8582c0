"""Tests: real PostgreSQL and Redis (never SQLite), fast hashing, no eager Celery."""

from .base import *  # noqa: F403
from .base import celery_broker, env, redis_caches

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/portal"),
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_portal")}

# Database 15 so a test run never flushes a developer's cache in database 0.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
SESSION_REDIS_URL = env("SESSION_REDIS_URL", default=REDIS_URL)
CACHES = redis_caches(REDIS_URL, SESSION_REDIS_URL)
# The signup stream lives with the sessions (base.py read an empty URL without REDIS_URL set).
SIGNUP_STREAM_URL = env("SIGNUP_STREAM_URL", default=SESSION_REDIS_URL)
for cache in CACHES.values():
    cache["KEY_PREFIX"] = "portal-test"
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker(
    env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/14")
)
CELERY_TASK_ALWAYS_EAGER = False
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=True)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not BREVO_API_KEY:  # noqa: F405 - the email tests' worker talks to the fake Brevo
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
EMAIL_RETRY_BASE_DELAY = env.float("EMAIL_RETRY_BASE_DELAY", default=0.05)
EMAIL_RETRY_MAX_DELAY = env.float("EMAIL_RETRY_MAX_DELAY", default=0.2)
EMAIL_LEASE_SECONDS = env.int("EMAIL_LEASE_SECONDS", default=2)
EMAIL_SWEEP_GRACE = env.float("EMAIL_SWEEP_GRACE", default=0.0)
ANYMAIL["WEBHOOK_SECRET"] = env("ANYMAIL_WEBHOOK_SECRET", default="brevo:test-secret")  # noqa: F405
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
ALLOWED_HOSTS = ["*"]
# Tests read task results back (the real worker round trip); production does not need them.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="redis://127.0.0.1:6379/13")
# Never the real BAN from tests: the postal-code table (the BAN adapter's tests use a fake).
GEOCODER = "missions.geocoding.PostalCodeGeocoder"
# The demo portals may move under .localhost (base: unset, no move at all).
PORTAL_DOMAINS = env.list("PORTAL_DOMAINS", default=[".localhost"])
