"""What the `make bench` scenarios share: environments, the bench database, gunicorn under
production settings, the CPU meter, wrk runs and the signup traffic they send."""

import json
import os
import resource
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg

from portal.testing.servers import Gunicorn

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BENCH_SECRET_KEY = "bench-secret-key-" + "x" * 48
WRK_THREADS, WRK_CONNECTIONS = 2, 32
SIGNUP_DOMAIN = "signup-bench.example.com"  # every account the bench creates


# Every process the bench starts works on the bench database and Redis.
BENCH_SERVICES = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "CELERY_BROKER_URL": REDIS_URL,
    "LOG_LEVEL": "WARNING",
}


def bench_env(**extra) -> dict:
    """Test settings on the bench database and Redis: manage.py, the drain and its worker."""
    env = {**os.environ, **BENCH_SERVICES, "CELERY_RESULT_BACKEND": REDIS_URL}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def production_env(**extra) -> dict:
    """The gunicorn processes' environment: production settings on the bench DB and Redis."""
    env = {**os.environ, **BENCH_SERVICES}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY=BENCH_SECRET_KEY,
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="*",
        ALLOW_SHARED_CACHE_REDIS="true",  # one Redis here; the outage scenario starts three
        # 2 sync workers, as in DEVELOPERS.md's figures; BENCH_WEB_CONCURRENCY changes it.
        WEB_CONCURRENCY=os.environ.get("BENCH_WEB_CONCURRENCY", "2"),
        GUNICORN_ACCESS_LOG="",  # nginx logs requests in production; here it would be measured
        # The limiter still counts every request in Redis; it just never trips.
        SIGNUP_RATE_PER_IP="100000000/s",
        SIGNUP_RATE_PER_EMAIL="100000000/s",
    )
    # Nothing from the caller's shell may change what is measured.
    for name in ("SESSION_REDIS_URL", "CELERY_RESULT_BACKEND", "BREVO_API_KEY"):
        env.pop(name, None)
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def prepare_database():
    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')

    def manage(*command):
        return subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=bench_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def check(result):
        if result.returncode:
            sys.stderr.write(result.stderr)
            command = " ".join(result.args[2:])
            raise SystemExit(f"bench: preparing {name} failed: manage.py {command}")

    migrated = manage("migrate", "--noinput", "-v0")
    if migrated.returncode and "InconsistentMigrationHistory" in migrated.stderr:
        # A bench database migrated by an older tree (e.g. before the custom user model):
        # it holds nothing but bench data, so start it again.
        print(f"bench: {name} has an inconsistent migration history; recreating it")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        migrated = manage("migrate", "--noinput", "-v0")
    check(migrated)
    check(manage("load_demo"))


def bench_db(query: str, params=None) -> list:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def ensure_static() -> None:
    """Production settings serve hashed static names from the manifest, as after a deploy."""
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=production_env(),
            check=True,
        )


def gunicorn(label: str, args=(), **env) -> Gunicorn:
    """gunicorn.conf.py under production_env (plus `env`), its output in
    bench/results/gunicorn-<label>.log; `args` override the config (`--max-requests 0`)."""
    log_path = RESULTS / f"gunicorn-{label}.log"
    return Gunicorn(production_env(**env), args, log_path, start_timeout=60)


class CpuMeter:
    """CPU time burnt during a run, by party: read from /proc before and after.

    gunicorn: its process group (workers, master) plus the workers it reaped (recycled);
    postgres: every postgres process, reaped backends included (other databases too, if
    anything else uses this server); wrk: this process's reaped children (wrk is the only one
    during a run); other: whatever else the machine did (another test suite, this script).
    """

    def __init__(self, gunicorn_pgid: int):
        self.pgid = gunicorn_pgid
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> Counter:
        totals = Counter()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                raw = stat.read_text()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            pgrp = int(fields[2])
            own, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
            if pgrp == self.pgid:
                totals["gunicorn"] += own + reaped
            elif comm.startswith("postgres"):
                totals["postgres"] += own + reaped
            elif comm.startswith("redis-server"):
                totals["redis"] += own
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        totals["wrk"] = (children.ru_utime + children.ru_stime) * self.tick
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        idle = int(cpu[3]) + int(cpu[4])
        totals["machine_busy"] = sum(int(x) for x in cpu[:8]) - idle
        totals["machine_all"] = sum(int(x) for x in cpu[:8])
        return totals

    def per_request(self, before: Counter, after: Counter, requests: int) -> dict:
        delta = {k: after[k] - before[k] for k in after}
        to_ms = 1000 / self.tick / max(requests, 1)
        parties = {k: round(delta[k] * to_ms, 3) for k in ("gunicorn", "postgres", "redis", "wrk")}
        other = delta["machine_busy"] - sum(delta[k] for k in ("gunicorn", "postgres", "redis"))
        other -= delta["wrk"]
        return {
            **parties,
            "other": round(max(other, 0) * to_ms, 3),
            "machine_busy_percent": round(100 * delta["machine_busy"] / delta["machine_all"], 1),
        }


def run_wrk(server, path: str, seconds: int, script: str, label: str, headers=(), **env) -> dict:
    """wrk -t2 -c32 --latency against `server.url`; the script's BENCH_JSON figures plus req/s."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(ROOT / "bench" / script), "-H", "Host: localhost"]
    command += [arg for header in headers for arg in ("-H", header)] + [server.url + path]
    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds + 60
    )
    (RESULTS / f"wrk-{label}.txt").write_text(result.stdout + result.stderr)
    lines = [x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")]
    if result.returncode or not lines:
        raise SystemExit(f"bench: wrk failed ({label}):\n{result.stdout}{result.stderr}")
    figures = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    seconds_run = figures["duration_us"] / 1e6
    latency = {k: round(v / 1000, 2) for k, v in figures.pop("latency_us").items()}
    return {
        "requests": figures["requests"],
        "seconds": round(seconds_run, 2),
        "req_per_s": round(figures["requests"] / seconds_run),
        "latency_ms": latency,
        **{k: v for k, v in figures.items() if k not in ("requests", "duration_us")},
    }


def wrk_errors(run: dict) -> dict:
    """wrk's non-zero error counters ('status' counts the non-2xx/3xx responses)."""
    return {k: v for k, v in run["errors"].items() if v}


# --- signup traffic ----------------------------------------------------------------------------


def signup_payload(email: str) -> dict:
    """The JSON body of one signup: wrk's signup.lua, the scenario's check, the profile."""
    return {
        "email": email,
        "first_name": "Camille",
        "last_name": "Martin",
        "postal_code": "69007",
        "birth_date": "1990-05-01",
        "consent": True,
    }


def signup_email(nonce: str, serial: str) -> str:
    return f"bench-{nonce}-{serial}@{SIGNUP_DOMAIN}"


def csrf_pair(server) -> tuple[str, str]:
    response = server.get("/api/v1/csrf")
    response.raise_for_status()
    return response.cookies["csrftoken"], response.json()["csrfToken"]


def run_signups(server, seconds: int, label: str, nonce: str, csrf: tuple[str, str]) -> dict:
    """wrk with signup.lua: one new account per request, bench-<nonce>-t<thread>-<n>@..."""
    cookie, token = csrf
    # signup.lua fills in the nonce, its thread number and its counter.
    body_format = json.dumps(signup_payload(signup_email("%s", "t%d-%d")))
    return run_wrk(
        server,
        "/",
        seconds,
        "signup.lua",
        label,
        SIGNUP_NONCE=nonce,
        SIGNUP_BODY_FORMAT=body_format,
        CSRF_COOKIE=cookie,
        CSRF_TOKEN=token,
    )


def count_created(nonce: str) -> dict:
    pattern = signup_email(nonce, "%")
    users = bench_db("SELECT count(*) FROM accounts_user WHERE email LIKE %s", [pattern])
    emails = bench_db("SELECT count(*) FROM emails_outboundemail WHERE to_email LIKE %s", [pattern])
    return {"users": users[0][0], "outbox_emails": emails[0][0]}


def write_report(report: dict) -> Path:
    path = RESULTS / "report.json"
    path.write_text(json.dumps(report, indent=2))
    return path
