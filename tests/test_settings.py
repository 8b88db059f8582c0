"""Settings come from the environment: embedded defaults for dev, loud failures in production."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from wagtail.models import Site

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "SECRET_KEY": "x" * 60 + "-production-like-secret-for-check-deploy",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "ALLOW_SHARED_CACHE_REDIS": "true",  # one Redis on this machine (see the test below)
}
SETTINGS_VARS = (
    "DATABASE_URL REDIS_URL SESSION_REDIS_URL CELERY_BROKER_URL BREVO_API_KEY BREVO_API_URL "
    "SECRET_KEY ALLOWED_HOSTS TRUSTED_PROXY_COUNT DEFAULT_FROM_EMAIL DJANGO_SETTINGS_MODULE "
    "ALLOW_SHARED_CACHE_REDIS"
).split()


def run(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


DUMP = """
import portal.wsgi  # applies the same default settings module as manage.py and gunicorn
import django, json
from django.conf import settings as s
print(json.dumps({
  "engine": s.DATABASES["default"]["ENGINE"], "cache": s.CACHES["default"]["BACKEND"],
  "session_cache": s.CACHES["sessions"]["BACKEND"], "eager": s.CELERY_TASK_ALWAYS_EAGER,
  "email": s.EMAIL_BACKEND, "broker": s.CELERY_BROKER_URL, "proxies": s.TRUSTED_PROXY_COUNT,
  "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
  "health_checks": s.DATABASES["default"]["CONN_HEALTH_CHECKS"],
  "brevo_url": s.ANYMAIL["BREVO_API_URL"], "session_redis": s.CACHES["sessions"].get("LOCATION"),
}))
"""


def test_embedded_default_needs_no_service():
    result = run(DUMP)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["cache"].endswith("LocMemCache")
    assert config["session_cache"].endswith("LocMemCache")
    assert config["eager"] is True
    assert config["email"].endswith("console.EmailBackend")
    assert config["proxies"] == 0
    assert config["brevo_url"] == "https://api.brevo.com/v3/"


def test_environment_selects_the_real_stack():
    result = run(
        DUMP,
        DATABASE_URL="postgres://u:p@db:5432/portal",
        REDIS_URL="redis://cache:6379/0",
        SESSION_REDIS_URL="redis://sessions:6379/0",
        BREVO_API_KEY="k",
        BREVO_API_URL="http://127.0.0.1:9/v3/",
        TRUSTED_PROXY_COUNT="2",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["cache"] == "django_redis.cache.RedisCache"
    assert config["session_redis"] == "redis://sessions:6379/0"
    assert config["broker"] == "redis://cache:6379/0"  # CELERY_BROKER_URL defaults to REDIS_URL
    assert config["eager"] is False
    assert config["email"] == "emails.backends.EmailBackend"  # Anymail Brevo, batch-aware
    assert config["brevo_url"] == "http://127.0.0.1:9/v3/"
    assert config["proxies"] == 2
    assert config["conn_max_age"] > 0 and config["health_checks"] is True


@pytest.mark.parametrize(
    "shared",
    [
        {},  # both default to REDIS_URL
        {"SESSION_REDIS_URL": "redis://127.0.0.1:6379/3", "CELERY_BROKER_URL": "redis://s:6379/1"},
        {"SESSION_REDIS_URL": "redis://s:6379/0", "CELERY_BROKER_URL": "redis://127.0.0.1/2"},
        {
            "SESSION_REDIS_URL": "redis://s:6379/0",
            "CELERY_BROKER_URL": "redis://s:6379/1",
            "SIGNUP_STREAM_URL": "redis://127.0.0.1:6379/4",
        },
    ],
)
def test_production_refuses_sessions_or_broker_on_the_evicting_cache_redis(shared):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ALLOW_SHARED_CACHE_REDIS"}
    result = run("import django; django.setup()", **env, **shared)
    assert result.returncode != 0
    assert "points at the cache Redis" in result.stderr
    assert "ALLOW_SHARED_CACHE_REDIS" in result.stderr
    allowed = run("import django; django.setup()", **PRODUCTION_ENV, **shared)
    assert allowed.returncode == 0, allowed.stderr


def test_production_starts_with_sessions_and_broker_apart_from_the_cache_redis():
    """Without ALLOW_SHARED_CACHE_REDIS, sessions and broker on another Redis start (checked
    once, not once per case above: the same process each time)."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ALLOW_SHARED_CACHE_REDIS"}
    apart = {"SESSION_REDIS_URL": "redis://s:6379/0", "CELERY_BROKER_URL": "redis://s:6379/1"}
    assert run("import django; django.setup()", **env, **apart).returncode == 0


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run("import django; django.setup()", **env)
    assert result.returncode != 0
    assert f"The environment variable {missing} is required in production" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_make_test_fails_fast_and_says_how_when_services_are_down():
    started = time.monotonic()
    result = run(
        "import runpy; runpy.run_module('tests.services', run_name='__main__')",
        DJANGO_SETTINGS_MODULE="portal.settings.test",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/portal",
        REDIS_URL="redis://127.0.0.1:1/15",
        CELERY_BROKER_URL="redis://127.0.0.1:1/14",
    )
    assert result.returncode == 2
    assert time.monotonic() - started < 30
    assert "PostgreSQL at 127.0.0.1:1 does not answer" in result.stderr
    assert "Redis (cache) at redis://127.0.0.1:1/15 does not answer" in result.stderr
    assert "pg_ctlcluster" in result.stderr and "redis-server" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_load_demo_runs_under_production_settings_on_postgresql():
    db = connection.settings_dict
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    for _ in range(2):  # idempotent
        result = subprocess.run(
            [sys.executable, "manage.py", "load_demo"],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
    assert "Admin: admin@localhost / admin" not in result.stdout  # no fixed password outside DEBUG
    assert set(Site.objects.values_list("hostname", flat=True)) == {
        "localhost",
        "covid19.localhost",
    }
