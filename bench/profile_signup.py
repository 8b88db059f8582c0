"""In-process view of one signup, for `python -m bench.run signup` (run under the bench env).

    python -m bench.profile_signup --nonce RUN --count 300

Through django.test.Client (no CSRF enforcement, Host: localhost), in this order:
  1. warm-up: one ping, one signup;
  2. one signup inside CaptureQueriesContext: the SQL Django sends, plus what it does not see
     (psycopg's own BEGIN/COMMIT, the CONN_HEALTH_CHECKS `SELECT 1`) and the Redis commands;
  3. `count` pings then `count` signups, timed without a profiler (ms per request, one process);
  4. `count` signups under cProfile: top entries by cumulative time (project and Django code)
     and by own time (everything, so I/O waits in C show up).
Prints one `BENCH_JSON {...}` line on stdout.
"""

import argparse
import cProfile
import json
import pstats
import sys
import time
import traceback
from collections import Counter

import django
import redis.connection
from django.db import close_old_connections, connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.harness import ROOT, signup_email, signup_payload

PROJECT_APPS = ("accounts", "emails", "home", "missions", "portal", "search", "tenants")


class RoundTrips:
    """What reaches PostgreSQL and Redis beyond Django's query log, and where each query starts.

    Django (4.2+) logs BEGIN/COMMIT itself, but not the CONN_HEALTH_CHECKS `SELECT 1` that
    precedes the first query of each request on a reused connection.
    """

    def __init__(self):
        self.health_checks = 0
        self.redis_commands: list[str] = []
        self.redis_sends = 0
        self.origins: list[str] = []
        self.active = False

    def install(self):
        tracker = self
        wrapper_class = type(connections["default"])
        is_usable = wrapper_class.is_usable

        def traced_is_usable(wrapper):
            if tracker.active:
                tracker.health_checks += 1
            return is_usable(wrapper)

        wrapper_class.is_usable = traced_is_usable

        conn_class = redis.connection.AbstractConnection
        send_command, pack_commands = conn_class.send_command, conn_class.pack_commands
        send = conn_class.send_packed_command

        def traced_send_command(conn, *args, **kwargs):
            if tracker.active:
                tracker.redis_commands.append(_redis_name(args))
            return send_command(conn, *args, **kwargs)

        def traced_pack_commands(conn, commands):
            if tracker.active:
                tracker.redis_commands.extend(_redis_name(c) for c in commands)
            return pack_commands(conn, commands)

        def traced_send(conn, *args, **kwargs):
            if tracker.active:
                tracker.redis_sends += 1
            return send(conn, *args, **kwargs)

        conn_class.send_command = traced_send_command
        conn_class.pack_commands = traced_pack_commands
        conn_class.send_packed_command = traced_send

    def record_origin(self, execute, sql, params, many, context):
        """execute_wrapper: the innermost caller outside Django's ORM and the DB driver."""
        for frame in reversed(traceback.extract_stack()[:-1]):
            path = short_path(frame.filename)
            if not path.startswith(("django/db/", "django/utils/", "bench/", "psycopg")):
                self.origins.append(f"{path}:{frame.lineno}({frame.name})")
                break
        else:
            self.origins.append("?")
        return execute(sql, params, many, context)


class WaitTimes:
    """Wall time spent waiting on PostgreSQL (statements, COMMIT, health check) and Redis."""

    def __init__(self):
        self.seconds = Counter()
        self.active = False

    def _timed(self, owner, name: str, bucket: str):
        original = getattr(owner, name)
        tracker = self

        def timed(*args, **kwargs):
            if not tracker.active:
                return original(*args, **kwargs)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                tracker.seconds[bucket] += time.perf_counter() - start

        setattr(owner, name, timed)

    def install(self):
        wrapper_class = type(connections["default"])
        self._timed(wrapper_class, "_commit", "postgres COMMIT")
        self._timed(wrapper_class, "is_usable", "postgres health check")
        self._timed(redis.connection.AbstractConnection, "send_packed_command", "redis")
        self._timed(redis.connection.AbstractConnection, "read_response", "redis")

    def sql(self, execute, sql, params, many, context):
        """execute_wrapper; the first statement of a transaction includes psycopg's BEGIN."""
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if self.active:
                self.seconds["postgres statements"] += time.perf_counter() - start


def _redis_name(args) -> str:
    name = args[0] if args else "?"
    return name.decode() if isinstance(name, bytes) else str(name)


def short_path(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    root = str(ROOT) + "/"
    return filename[len(root) :] if filename.startswith(root) else filename


def is_ours_django_or_wagtail(filename: str) -> bool:
    if "site-packages/django/" in filename or "site-packages/wagtail/" in filename:
        return True
    root = str(ROOT) + "/"
    return filename.startswith(root) and filename[len(root) :].split("/", 1)[0] in PROJECT_APPS


def profile_rows(stats: pstats.Stats, count: int, *, key: str, keep, top: int) -> list[str]:
    """Lines `cum own calls function` per signup, sorted by `key` (cumulative or own time)."""
    rows = []
    for (filename, line, func), (_cc, calls, own, cum, _callers) in stats.stats.items():
        if not keep(filename, cum):
            continue
        where = f"{short_path(filename)}:{line}({func})" if filename != "~" else func
        rows.append((cum if key == "cumulative" else own, cum, own, calls, where))
    rows.sort(reverse=True)
    return [
        f"{cum / count * 1000:7.3f} ms cum {own / count * 1000:6.3f} ms own "
        f"{calls / count:5.1f} calls  {where}"
        for _, cum, own, calls, where in rows[:top]
    ]


def own_time_by_package(stats: pstats.Stats, count: int) -> dict[str, float]:
    """Own time per signup (ms) grouped by top-level package; C calls under `builtins`."""
    totals: Counter = Counter()
    for (filename, _line, _func), (_cc, _calls, own, _cum, _callers) in stats.stats.items():
        if filename == "~":
            package = "builtins (C: socket I/O, ...)"
        elif "site-packages/" in filename:
            package = short_path(filename).split("/", 1)[0].removesuffix(".py")
        elif filename.startswith(str(ROOT) + "/"):
            package = "project " + short_path(filename).split("/", 1)[0]
        else:
            package = "stdlib"
        totals[package] += own
    return {name: round(t / count * 1000, 3) for name, t in totals.most_common(12)}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nonce", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    django.setup()
    client = Client(enforce_csrf_checks=False)
    serial = iter(range(10**9))

    # django.test.Client disconnects close_old_connections from request_started; a real
    # handler runs it, and with it the connection health check. Do as the real handler does.
    def signup(tag: str):
        close_old_connections()
        email = signup_email(args.nonce, f"{tag}{next(serial)}")
        response = client.post(
            "/api/v1/signup",
            signup_payload(email),
            content_type="application/json",
            HTTP_HOST="localhost",
        )
        if response.status_code != 202:
            raise SystemExit(f"signup answered {response.status_code}: {response.content[:300]!r}")

    def ping():
        close_old_connections()
        response = client.get("/_ping", HTTP_HOST="localhost")
        if response.status_code != 200:
            raise SystemExit(f"/_ping answered {response.status_code}")

    ping()
    signup("w")

    trips = RoundTrips()
    trips.install()
    trips.active = True
    with (
        CaptureQueriesContext(connection) as captured,
        connection.execute_wrapper(trips.record_origin),
    ):
        signup("q")
    trips.active = False
    statements = [q["sql"].replace("\n", " ")[:80] for q in captured.captured_queries]
    # BEGIN/COMMIT are logged by Django's debug_transaction, not run through execute_wrapper.
    origins = iter(trips.origins)
    statement_origins = [
        f"{sql[:40]:40}  {'(transaction)' if sql in ('BEGIN', 'COMMIT') else next(origins, '?')}"
        for sql in statements
    ]

    start = time.perf_counter()
    for _ in range(args.count):
        ping()
    ping_ms = (time.perf_counter() - start) / args.count * 1000
    start = time.perf_counter()
    for _ in range(args.count):
        signup("t")
    signup_ms = (time.perf_counter() - start) / args.count * 1000

    waits = WaitTimes()
    waits.install()
    waits.active = True
    start = time.perf_counter()
    with connection.execute_wrapper(waits.sql):
        for _ in range(args.count):
            signup("b")
    waits.active = False
    total = time.perf_counter() - start
    breakdown = {k: round(v / args.count * 1000, 3) for k, v in waits.seconds.most_common()}
    breakdown["rest (Python in this process)"] = round(
        (total - sum(waits.seconds.values())) / args.count * 1000, 3
    )
    breakdown = {"total": round(total / args.count * 1000, 3), **breakdown}

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(args.count):
        signup("p")
    profiler.disable()
    profiled_ms = (time.perf_counter() - start) / args.count * 1000
    stats = pstats.Stats(profiler)
    # Everything above the view (test client, handler, middleware chain) has the whole request
    # as its cumulative time: list what sits at or below the view instead.
    view_cum = max(
        cum
        for (filename, _line, func), (_cc, _n, _own, cum, _callers) in stats.stats.items()
        if func == "api_signup" and filename.endswith("accounts/views.py")
    )
    request_cum = max(
        cum
        for (filename, _line, func), (_cc, _n, _own, cum, _callers) in stats.stats.items()
        if func == "get_response" and filename.endswith("django/core/handlers/base.py")
    )

    result = {
        "queries_per_signup": len(statements),
        "statements": statements,
        "statement_origins": statement_origins,
        "health_check_select_1_not_in_query_log": trips.health_checks,
        "postgres_round_trips_per_signup": len(statements) + trips.health_checks,
        "redis_commands_per_signup": dict(Counter(trips.redis_commands)),
        "redis_round_trips_per_signup": trips.redis_sends,
        "in_process_ms": {
            "ping": round(ping_ms, 3),
            "signup": round(signup_ms, 3),
            "signup_under_cprofile": round(profiled_ms, 3),
            "requests_each": args.count,
        },
        "signup_wall_ms_breakdown": breakdown,
        "profile": {
            "signups": args.count,
            "note": "ms per signup; cProfile inflates Python-heavy code more than I/O waits",
            "request_ms": round(request_cum / args.count * 1000, 3),
            "view_ms": round(view_cum / args.count * 1000, 3),
            "middleware_and_handler_outside_view_ms": round(
                (request_cum - view_cum) / args.count * 1000, 3
            ),
            "top_cumulative_project_django_wagtail_at_or_below_view": profile_rows(
                stats,
                args.count,
                key="cumulative",
                keep=lambda f, cum: cum <= view_cum and is_ours_django_or_wagtail(f),
                top=args.top,
            ),
            "top_own_time_all_code": profile_rows(
                stats, args.count, key="own", keep=lambda f, cum: True, top=args.top
            ),
            "own_time_by_package": own_time_by_package(stats, args.count),
        },
    }
    sys.stdout.write("BENCH_JSON " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
