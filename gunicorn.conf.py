"""Gunicorn configuration (used by the Dockerfile CMD, docker-compose and the Procfile).

Every value can be tuned with an environment variable so the same file works in
docker-compose (behind deploy/nginx.conf) and on Scalingo/Heroku (behind their router).
"""

import os


def _cpu_count() -> int:
    # sched_getaffinity honours CPU pinning/cgroup cpusets; os.cpu_count() reports host CPUs.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not available on macOS
        return os.cpu_count() or 1


# PaaS routers inject PORT; inside compose nginx proxies to web:8000.
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]

# WEB_CONCURRENCY is the Heroku/Scalingo convention; set it explicitly on small containers,
# because the CPU-based default can over-commit memory.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpu_count() + 1)

# Sync workers are fine because a buffering proxy (nginx / PaaS router) sits in front and
# absorbs slow clients. Sync workers close the connection after each response, so
# `keepalive` below only matters if the worker class is ever switched to gthread.
worker_class = "sync"
keepalive = 5

# Kill a worker stuck on one request after 30 s (nginx proxy_read_timeout is slightly higher,
# so the client gets gunicorn's error rather than a 504 race).
timeout = 30
# Time given to in-flight requests on SIGTERM/HUP; docker-compose stop_grace_period is longer.
graceful_timeout = 25

# Recycle workers periodically to contain slow memory leaks; jitter avoids all workers
# restarting at the same moment.
# Recycling guards against leaks; with preload_app a restart is a fork, not an import of
# Django and Wagtail (~1 s of CPU each, which at thousands of req/s was a restart every second).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
preload_app = True

# Heartbeat files on a RAM-backed fs: a disk-backed /tmp can block workers (see gunicorn docs
# "Blocking os.fchmod").
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Containers log to stdout/stderr; the platform collects them.
# GUNICORN_ACCESS_LOG="" turns the access log off (benchmarks; nginx logs requests anyway).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Which peers may set X-Forwarded-Proto (so wsgi.url_scheme/request.is_secure() are right).
# "*" is safe only because gunicorn is never reachable directly: in compose only nginx can
# reach web:8000 (no published port), and on a PaaS only the router reaches $PORT. If you
# publish gunicorn's port, set FORWARDED_ALLOW_IPS to the proxy's address(es).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# The runtime control socket (gunicornc) is not used; disabling it avoids writing under $HOME
# of the non-root container user.
control_socket_disable = True
