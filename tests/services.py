"""Fail fast, with the fix, when PostgreSQL or Redis is not there (no silent SQLite)."""

import os

import psycopg
import redis

HOW_TO_START = """\
Start them (as root) with:
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \\
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
or point DATABASE_URL / REDIS_URL at running servers (see README, "Configuration")."""


def check_services(settings) -> list[str]:
    """Returns one line per backing service that does not answer within 3 seconds."""
    problems = []
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        problems.append(f"tests need PostgreSQL, DATABASE_URL selects {db['ENGINE']}")
    else:
        try:
            psycopg.connect(
                host=db.get("HOST") or None,
                port=db.get("PORT") or None,
                user=db.get("USER") or None,
                password=db.get("PASSWORD") or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.Error as exc:
            problems.append(
                f"PostgreSQL at {db.get('HOST')}:{db.get('PORT')} does not answer: "
                f"{str(exc).strip().splitlines()[0]}"
            )
    for name, url in (
        ("Redis (cache)", settings.REDIS_URL),
        ("Redis (broker)", settings.CELERY_BROKER_URL),
    ):
        try:
            redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"{name} at {url} does not answer: {exc}")
    return problems


if __name__ == "__main__":  # used by `make test` before pytest starts
    import sys

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    django.setup()
    from django.conf import settings

    problems = check_services(settings)
    for line in problems:
        print(f"ERROR: {line}", file=sys.stderr)
    if problems:
        print(HOW_TO_START, file=sys.stderr)
        sys.exit(2)
