"""`make bench`: throughput figures measured on this machine, as ratios to a reference.

Machines here are shared and noisy: every figure is reported next to a reference measured in
the same run, and only the ratio is meant to be compared between runs.

Scenarios (all by default, or name them: `python -m bench.run email`):
  email   drain a backlog of outbox records through a real Celery worker to the fake Brevo
          over loopback; reference: the same drain with batching off (one API call per email).
  signup  POST /api/v1/signup (JSON, CSRF pair, a new address per request: bench/signup.lua)
          with wrk against gunicorn (production settings, gunicorn.conf.py, 2 sync workers);
          reference: GET /_ping in the same processes. Also, in-process
          (bench/profile_signup.py): the SQL of one signup, where its wall time goes, cProfile.
          Needs wrk (`make bench` installs it). Any non-202 or socket error makes the run
          invalid: the report says so and the command exits with status 1.
  pages   the anonymous home page: warm page cache, uncached, nginx micro-cache.
  search  mission search on 100,000 missions, uncached and cached.
  outage  what each Redis costs when it is down (cache, then broker, then sessions): home
          page and signups next to the same figures with every Redis up, same processes.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def bench_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.test",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        CELERY_RESULT_BACKEND=REDIS_URL,
        LOG_LEVEL="WARNING",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def prepare_database():
    import psycopg

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


def drain(count: int, batch_size: int, fake_url: str) -> dict:
    """Time a worker draining `count` due records; returns emails/s and API calls."""
    script = f"""
import django, time, json
django.setup()
from django.utils import timezone
from wagtail.models import Site
from emails.models import OutboundEmail
OutboundEmail.objects.all().delete()
sites = list(Site.objects.all())
now = timezone.now()
OutboundEmail.objects.bulk_create([
    OutboundEmail(to_email=f"volunteer{{i}}@example.com", template="account_confirmation",
        idempotency_key=f"bench:{{i}}", site=sites[i % len(sites)],
        language="fr" if i % 3 else "en", next_attempt_at=now,
        context={{"first_name": f"Camille{{i}}", "action_path": f"/fr/confirmer/{{i}}/"}})
    for i in range({count})], batch_size=2000)
from emails.tasks import sweep_outbox
start = time.monotonic()
sweep_outbox.delay()
while OutboundEmail.objects.filter(status__in=["pending", "sending"]).exists():
    time.sleep(0.05)
elapsed = time.monotonic() - start
sent = OutboundEmail.objects.filter(status="sent").count()
print(json.dumps({{"count": {count}, "sent": sent, "seconds": elapsed}}))
"""
    worker_log = RESULTS / f"worker-batch{batch_size}.log"
    env = bench_env(
        BREVO_API_KEY="bench-key",
        BREVO_API_URL=fake_url,
        EMAIL_BATCH_SIZE=batch_size,
        EMAIL_SWEEP_GRACE=0,
    )
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with open(worker_log, "w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "celery_app",
                "worker",
                "--concurrency=2",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                "bench@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(3)
            result = subprocess.run(
                [sys.executable, "-c", script],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            worker.terminate()
            worker.wait(30)
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_email(count: int, reference_count: int) -> dict:
    import requests

    from tests.fake_brevo import FakeBrevo

    with FakeBrevo(api_key="bench-key") as fake:
        stats_url = fake.base_url + "_fake/stats"
        batched = drain(count, 50, fake.url)
        batched_calls = requests.get(stats_url, timeout=5).json()["api_calls"]
        fake.reset()
        single = drain(reference_count, 1, fake.url)
        single_calls = requests.get(stats_url, timeout=5).json()["api_calls"]
    batched_rate = batched["sent"] / batched["seconds"]
    single_rate = single["sent"] / single["seconds"]
    return {
        "batched": {**batched, "api_calls": batched_calls, "emails_per_s": round(batched_rate)},
        "reference_one_call_per_email": {
            **single,
            "api_calls": single_calls,
            "emails_per_s": round(single_rate),
        },
        "ratio": round(batched_rate / single_rate, 1),
    }


# --- signup -----------------------------------------------------------------------------------

SIGNUP_DOMAIN = "signup-bench.example.com"  # every account the scenario creates
BENCH_SECRET_KEY = "bench-secret-key-" + "x" * 48
WRK_THREADS, WRK_CONNECTIONS = 2, 32


def production_env(**extra) -> dict:
    """The gunicorn processes' environment: production settings on the bench DB and Redis."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY=BENCH_SECRET_KEY,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="*",
        ALLOW_SHARED_CACHE_REDIS="true",  # one Redis here; the outage scenario starts three
        # 2 sync workers, as in DEVELOPERS.md's figures; BENCH_WEB_CONCURRENCY changes it.
        WEB_CONCURRENCY=os.environ.get("BENCH_WEB_CONCURRENCY", "2"),
        LOG_LEVEL="WARNING",
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


def port_is_free(port: int) -> bool:
    import socket

    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port() -> int:
    import socket

    for _ in range(20):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port_is_free(port):
            return port
    raise SystemExit("bench: no free loopback port found")


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py portal.wsgi:application` on a free loopback port.

    gunicorn.conf.py binds 0.0.0.0:$PORT; `--bind 127.0.0.1:PORT` keeps the bench on loopback.
    The config logs every request to stdout (no variable turns that off): it goes to the log
    file, and the reference pays it as much as the signups. `extra_args` come last and override
    the config (e.g. `--max-requests 0`).
    """

    def __init__(self, log_path: Path, extra_args=(), env=None):
        self.env = env or {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.process = None

    def __enter__(self):
        import requests

        if not port_is_free(self.port):
            raise SystemExit(f"bench: port {self.port} is taken")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
        command += ["-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
        command += [*self.extra_args, "portal.wsgi:application"]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        try:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=production_env(PORT=self.port, **self.env),
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: master and workers only
            )
            deadline = time.monotonic() + 60
            while True:
                if self.process.poll() is not None:
                    raise SystemExit(
                        f"bench: gunicorn exited with {self.process.returncode} at start; "
                        f"see {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    if self.get("/_ping").text == "pong":
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"bench: gunicorn did not answer /_ping in 60 s; see {self.log_path}"
                    )
                time.sleep(0.2)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def get(self, path: str, **kwargs):
        import requests

        return requests.get(self.base + path, headers={"Host": "localhost"}, timeout=5, **kwargs)

    def alive(self) -> bool:
        try:
            return self.process.poll() is None and self.get("/_ping").status_code == 200
        except Exception:
            return False

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-lines:])

    def log_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM to the master: graceful stop of the workers
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)
        self.log.close()


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
        import resource

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


def run_wrk(
    server: Gunicorn, path: str, seconds: int, script: str, label: str, headers=(), **env
) -> dict:
    """wrk -t2 -c32 --latency; returns the script's BENCH_JSON figures plus req/s."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(ROOT / "bench" / script), "-H", "Host: localhost"]
    command += [arg for header in headers for arg in ("-H", header)] + [server.base + path]
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


def csrf_pair(server: Gunicorn) -> tuple[str, str]:
    response = server.get("/api/v1/csrf")
    response.raise_for_status()
    return response.cookies["csrftoken"], response.json()["csrfToken"]


def signup_body(email: str) -> dict:
    return {
        "email": email,
        "first_name": "Camille",
        "last_name": "Martin",
        "postal_code": "69007",
        "birth_date": "1990-05-01",
        "consent": True,
    }


def bench_db(query: str, params=None) -> list:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def count_created(nonce: str) -> dict:
    pattern = f"bench-{nonce}-%@{SIGNUP_DOMAIN}"
    users = bench_db("SELECT count(*) FROM accounts_user WHERE email LIKE %s", [pattern])
    emails = bench_db("SELECT count(*) FROM emails_outboundemail WHERE to_email LIKE %s", [pattern])
    return {"users": users[0][0], "outbox_emails": emails[0][0]}


def delete_bench_accounts() -> str:
    """Forget the accounts of earlier runs (nothing references them but their outbox rows)."""
    like = f"%@{SIGNUP_DOMAIN}"
    try:
        import psycopg

        with psycopg.connect(DATABASE_URL) as conn:
            conn.execute(
                "DELETE FROM wagtailcore_referenceindex WHERE content_type_id = (SELECT id FROM"
                " django_content_type WHERE app_label = 'emails' AND model = 'outboundemail')"
                " AND object_id IN (SELECT id::text FROM emails_outboundemail"
                " WHERE to_email LIKE %s)",
                [like],
            )
            emails = conn.execute(
                "DELETE FROM emails_outboundemail WHERE to_email LIKE %s", [like]
            ).rowcount
            users = conn.execute("DELETE FROM accounts_user WHERE email LIKE %s", [like]).rowcount
        return f"deleted {users} accounts and {emails} outbox rows from earlier runs"
    except Exception as error:  # schema changed under us: the figures do not depend on it
        return f"could not delete earlier bench accounts: {error}"


def signup_in_process(nonce: str, count: int) -> dict:
    """bench/profile_signup.py under the production env: queries, waits, cProfile."""
    result = subprocess.run(
        [sys.executable, "-W", "ignore::UserWarning", "-m", "bench.profile_signup"]
        + ["--nonce", f"{nonce}p", "--count", str(count)],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")]
    if result.returncode or not lines:
        raise SystemExit(f"bench: profile_signup failed:\n{result.stdout}{result.stderr}")
    return json.loads(lines[-1].removeprefix("BENCH_JSON "))


def measure_server(label: str, nonce: str, seconds: int, warmup: int, extra_args=()) -> dict:
    """Reference then signups, in the same gunicorn processes; checks everything it can."""
    import requests

    problems = []
    log_path = RESULTS / f"gunicorn-{label}.log"
    with Gunicorn(log_path, extra_args) as server:
        run_wrk(server, "/_ping", warmup, "reference.lua", f"{label}-warmup-ping")
        cpu = CpuMeter(server.process.pid)
        offset, before = server.log_size(), cpu.sample()
        reference = run_wrk(server, "/_ping", seconds, "reference.lua", f"{label}-ping")
        reference["cpu_ms_per_request"] = cpu.per_request(
            before, cpu.sample(), reference["requests"]
        )
        reference["worker_boots"] = server.log_since(offset).count("Booting worker")

        cookie, token = csrf_pair(server)
        headers = {"Host": "localhost", "Cookie": f"csrftoken={cookie}", "X-CSRFToken": token}
        once = requests.post(
            server.base + "/api/v1/signup",
            json=signup_body(f"bench-{nonce}once-0@{SIGNUP_DOMAIN}"),
            headers=headers,
            timeout=10,
        )
        if once.status_code != 202:
            raise SystemExit(
                f"bench: INVALID: one signup with requests answered {once.status_code}, not 202:"
                f"\n{once.text[:500]}\n{server.log_tail()}"
            )
        csrf = {"CSRF_COOKIE": cookie, "CSRF_TOKEN": token}
        run_wrk(
            server, "/", warmup, "signup.lua", f"{label}-warmup-signup",
            SIGNUP_NONCE=f"{nonce}w", **csrf,
        )  # fmt: skip
        offset, before = server.log_size(), cpu.sample()
        signups = run_wrk(
            server, "/", seconds, "signup.lua", f"{label}-signup", SIGNUP_NONCE=nonce, **csrf
        )
        signups["cpu_ms_per_request"] = cpu.per_request(before, cpu.sample(), signups["requests"])
        signups["worker_boots"] = server.log_since(offset).count("Booting worker")
        alive = server.alive()
        log = server.log_since(0)

    for name, run, expected in (("reference", reference, None), ("signups", signups, "202")):
        errors = {k: v for k, v in run["errors"].items() if v}
        if errors:
            problems.append(f"{name}: wrk errors {errors} ('status' = non-2xx/3xx responses)")
        if expected:
            others = {k: v for k, v in run["statuses"].items() if k != expected}
            if others:
                problems.append(f"{name}: non-{expected} responses {others}")
    if not alive:
        problems.append("gunicorn was not alive (or did not answer /_ping) after the run")
    created = count_created(nonce)
    answered = signups["statuses"].get("202", 0)
    # Requests still in flight when wrk stops (up to one per connection) are committed but
    # never counted by wrk; none can exist that the script did not generate.
    if not answered <= created["users"] <= signups["requests_generated"]:
        problems.append(f"{created['users']} accounts in the DB for {answered} answers 202")
    if created["outbox_emails"] != created["users"]:
        problems.append(f"{created['outbox_emails']} outbox rows for {created['users']} accounts")
    markers = ("Traceback", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT")
    log_problems = {m: log.count(m) for m in markers if m in log}
    if log_problems:
        problems.append(f"gunicorn log {log_path.name}: {log_problems}")
    return {
        "gunicorn_args": ["-c", "gunicorn.conf.py", *extra_args],
        "reference_ping": reference,
        "signups": {**signups, "db": created},
        "ratio": round(signups["req_per_s"] / reference["req_per_s"], 3),
        "problems": problems,
    }


def bench_signup(seconds: int, warmup: int, profile_count: int, no_recycle: bool) -> dict:
    import redis

    started = time.monotonic()
    load_at_start = os.getloadavg()[0]
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    nonce = time.strftime("%Y%m%d%H%M%S")
    cleanup = delete_bench_accounts()
    in_process = signup_in_process(nonce, profile_count)
    runs = {"production": measure_server("signup", nonce, seconds, warmup)}
    if no_recycle:
        runs["no_recycle"] = measure_server(
            "signup-norecycle", nonce + "n", seconds, warmup, ["--max-requests", "0"]
        )
    left = broker.llen("celery")
    broker.flushdb()
    main = runs["production"]
    ref, sig = main["reference_ping"], main["signups"]
    if "no_recycle" in runs and ref["worker_boots"]:
        # The reference's extra gunicorn CPU with recycling on, spread over its worker boots.
        extra = ref["cpu_ms_per_request"]["gunicorn"]
        extra -= runs["no_recycle"]["reference_ping"]["cpu_ms_per_request"]["gunicorn"]
        main["cpu_s_per_worker_boot_estimate"] = round(
            extra * ref["requests"] / ref["worker_boots"] / 1000, 2
        )
    report = {
        "valid": not any(run["problems"] for run in runs.values()),
        "problems": [p for run in runs.values() for p in run["problems"]],
        "reference_req_per_s": ref["req_per_s"],
        "signups_per_s": sig["req_per_s"],
        "ratio": main["ratio"],
        "target_ratio": 0.2,
        "meets_target": main["ratio"] >= 0.2,
        "reference_latency_ms": ref["latency_ms"],
        "signup_latency_ms": sig["latency_ms"],
        "cpu_ms_per_ping": ref["cpu_ms_per_request"],
        "cpu_ms_per_signup": sig["cpu_ms_per_request"],
        "queries_per_signup": in_process["queries_per_signup"],
        "statements": in_process["statements"],
        "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{seconds}s --latency, {warmup} s warm-up",
        "runs": runs,
        "in_process": in_process,
        "celery_messages_flushed": left,
        "notes": [
            "gunicorn: production settings, gunicorn.conf.py, 2 sync workers, bound to "
            "127.0.0.1; its access log (always on in gunicorn.conf.py, no variable for it) "
            "goes to bench/results/gunicorn-*.log.",
            "gunicorn.conf.py recycles workers every 1000-1100 requests (max_requests): "
            "`worker_boots` counts restarts during each run; `runs.no_recycle` is the same "
            "measurement with `--max-requests 0`.",
            "/_ping is in TENANT_EXEMPT_PATHS: the reference skips the host lookup.",
            f"No Celery worker runs: {left} send_outbox messages piled up in Redis db "
            f"{REDIS_URL.rsplit('/', 1)[1]} and were flushed.",
            cleanup,
        ],
        "load_average_1min_at_start": round(load_at_start, 2),
        "scenario_seconds": round(time.monotonic() - started, 1),
    }
    return report


NGINX_CONF = """
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    proxy_cache_path {cache} levels=1:2 keys_zone=pages:20m max_size=200m inactive=60s
                     use_temp_path=off;
    map $upstream_http_cache_control $private_answer {{
        ~*(private|no-store) 1;
        default              0;
    }}
    upstream django {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location = /static.txt {{ root {root}; }}
        location / {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_cache pages;
            proxy_cache_key $scheme$host$request_uri;
            proxy_ignore_headers Cache-Control Expires;
            proxy_cache_valid 200 1s;
            proxy_cache_bypass $cookie_sessionid $http_authorization;
            proxy_no_cache $cookie_sessionid $http_authorization $private_answer;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            proxy_pass http://django;
        }}
    }}
}}
"""


def ensure_static() -> None:
    """Production settings serve hashed static names from the manifest, as after a deploy."""
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT, env=production_env(), check=True,
        )  # fmt: skip


def bench_pages(seconds: int, warmup: int) -> dict:
    """Anonymous home page: warm page cache, uncached, and nginx's micro-cache, each next to a
    reference measured in the same run (the bare view; nginx serving a small static file)."""
    report = {}
    ensure_static()
    with Gunicorn(RESULTS / "gunicorn-pages.log") as server:
        for _ in range(3):
            assert server.get("/fr/").status_code == 200
        run_wrk(server, "/_ping", warmup, "reference.lua", "pages-warmup")
        reference = run_wrk(server, "/_ping", seconds, "reference.lua", "pages-reference")
        cached = run_wrk(server, "/fr/", seconds, "reference.lua", "pages-home-cached")
        report["reference_req_per_s"] = reference["req_per_s"]
        report["home_cached"] = cached
        report["cached_ratio"] = round(cached["req_per_s"] / reference["req_per_s"], 2)
        report["nginx"] = bench_nginx(server, seconds, warmup)
    with Gunicorn(
        RESULTS / "gunicorn-pages-nocache.log", env={"PAGE_CACHE_ENABLED": "false"}
    ) as s2:
        for _ in range(3):
            assert s2.get("/fr/").status_code == 200
        run_wrk(s2, "/fr/", warmup, "reference.lua", "pages-nocache-warmup")
        reference2 = run_wrk(s2, "/_ping", seconds, "reference.lua", "pages-reference-2")
        uncached = run_wrk(s2, "/fr/", seconds, "reference.lua", "pages-home-uncached")
        report["reference_req_per_s_uncached_run"] = reference2["req_per_s"]
        report["home_uncached"] = uncached
        report["uncached_ratio"] = round(uncached["req_per_s"] / reference2["req_per_s"], 2)
    report["targets"] = {"cached_ratio": 1.5, "uncached_ratio": 0.15}
    return report


def cache_dir(root: Path) -> Path:
    """The micro-cache in memory (tmpfs), as a container would mount /var/cache/nginx."""
    shm = Path("/dev/shm")
    return shm / f"{root.name}-cache" if shm.is_dir() else root / "cache"


def bench_nginx(server, seconds: int, warmup: int) -> dict:
    nginx = shutil.which("nginx")
    if nginx is None:
        return {"skipped": "nginx is not installed (apt-get install -y nginx-light)"}
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        root = Path(tmp)
        (root / "static.txt").write_text("x" * 512)
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(cache=cache_dir(root), upstream=server.port, port=port, root=root)
        )
        process = subprocess.Popen(
            [nginx, "-p", str(root), "-c", str(conf), "-g", f"daemon off; pid {root}/nginx.pid;"],
            stdout=subprocess.DEVNULL,
            stderr=open(RESULTS / "nginx.log", "w"),  # noqa: SIM115
        )
        try:
            front = type("Front", (), {"base": f"http://127.0.0.1:{port}"})()
            time.sleep(0.5)
            if process.poll() is not None:
                return {"skipped": f"nginx did not start: {(RESULTS / 'nginx.log').read_text()}"}
            run_wrk(front, "/fr/", warmup, "reference.lua", "nginx-warmup")
            static = run_wrk(front, "/static.txt", seconds, "reference.lua", "nginx-static")
            micro = run_wrk(front, "/fr/", seconds, "reference.lua", "nginx-microcache")
        finally:
            process.terminate()
            process.wait(10)
    return {
        "static_file_req_per_s": static["req_per_s"],
        "home_microcached_req_per_s": micro["req_per_s"],
        "ratio": round(micro["req_per_s"] / static["req_per_s"], 2),
        "static_file": static,
        "home_microcached": micro,
    }


def ensure_dataset() -> dict:
    """The March 2020 scale in the bench database, generated once (minutes)."""
    rows = bench_db("SELECT count(*) FROM missions_mission WHERE slug LIKE 'gen-%'")[0][0]
    if rows < 100_000:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "manage.py", "generate_dataset", "-v0"],
            cwd=ROOT, env=bench_env(), check=True,
        )  # fmt: skip
        return {"generated_in_s": round(time.monotonic() - started, 1)}
    return {"generated_in_s": None}


def bench_search(seconds: int, warmup: int) -> dict:
    """GET /api/v1/missions on 100,000 missions: uncached (text + radius + facets) and cached,
    next to the bare view; latencies from wrk with 32 connections (so they include queueing)
    and from single requests one at a time (the latency one search costs)."""
    report = ensure_dataset()
    with Gunicorn(RESULTS / "gunicorn-search.log") as server:
        run_wrk(server, "/_ping", warmup, "reference.lua", "search-warmup")
        reference = run_wrk(server, "/_ping", seconds, "reference.lua", "search-reference")
        uncached = run_wrk(server, "/api/v1/missions", seconds, "search.lua", "search-uncached",
                           SEARCH_MODE="uncached")  # fmt: skip
        cached = run_wrk(server, "/api/v1/missions", seconds, "search.lua", "search-cached",
                         SEARCH_MODE="cached")  # fmt: skip
        report["sequential_ms"] = sequential_latencies(server)
    report.update(
        reference_req_per_s=reference["req_per_s"],
        reference_latency_ms=reference["latency_ms"],
        uncached=uncached,
        cached=cached,
        goals_ms={"uncached_p95": 50, "cached_p95": 5},
    )
    return report


def sequential_latencies(server, count: int = 200) -> dict:
    import random
    import statistics

    import requests

    session = requests.Session()
    cities = [(48.86, 2.38), (45.75, 4.84), (43.30, 5.38), (50.63, 3.06), (43.60, 1.44)]
    words = ["distribution", "soutien scolaire", "visite", "maraude", "collecte"]

    def measure(url):
        times = []
        for _ in range(count):
            start = time.perf_counter()
            response = session.get(server.base + url(), headers={"Host": "localhost"}, timeout=10)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text[:200]
        times.sort()
        return {"p50": round(statistics.median(times), 2),
                "p95": round(times[int(len(times) * 0.95) - 1], 2)}  # fmt: skip

    def uncached_url():
        lat, lng = random.choice(cities)
        lat, lng = lat + random.uniform(-0.3, 0.3), lng + random.uniform(-0.4, 0.4)
        q, radius = random.choice(words), random.randint(5, 30)
        return f"/api/v1/missions?q={q}&lat={lat:.5f}&lng={lng:.5f}&radius_km={radius}"

    fixed = "/api/v1/missions?q=distribution&lat=48.86&lng=2.38&radius_km=20"
    return {
        "uncached": measure(uncached_url),
        "cached": measure(lambda: fixed),
        "reference": measure(lambda: "/_ping"),
    }


def bench_outage(seconds: int, warmup: int) -> dict:
    """What each Redis costs when it is down: one gunicorn (production settings) with a cache,
    a sessions and a broker Redis of its own, measured all up, then with the cache down, then
    the broker too, then the sessions too. Every figure sits next to the all-up one."""
    from tests.workers import RedisServer

    ensure_static()
    redises = {name: RedisServer().start() for name in ("cache", "sessions", "broker")}
    nonce = time.strftime("%Y%m%d%H%M%S") + "o"
    env = {
        "REDIS_URL": redises["cache"].url,
        "SESSION_REDIS_URL": redises["sessions"].url,
        "CELERY_BROKER_URL": redises["broker"].url,
    }
    runs: dict[str, dict] = {}
    try:
        with Gunicorn(RESULTS / "gunicorn-outage.log", env=env) as server:
            for _ in range(3):
                assert server.get("/fr/").status_code == 200
            cookie, token = csrf_pair(server)
            csrf = {"CSRF_COOKIE": cookie, "CSRF_TOKEN": token}

            def measure(state: str, *what: str) -> None:
                runs[state] = {}
                if "ping" in what:
                    runs[state]["ping"] = run_wrk(
                        server, "/_ping", seconds, "reference.lua", f"outage-{state}-ping"
                    )
                if "home" in what:
                    runs[state]["home"] = run_wrk(
                        server, "/fr/", seconds, "reference.lua", f"outage-{state}-home"
                    )
                    # A session cookie bypasses the page cache: Django renders every request
                    # (the long tail of pages, a signed-in visitor on a public page).
                    runs[state]["home_rendered"] = run_wrk(
                        server, "/fr/", seconds, "reference.lua", f"outage-{state}-rendered",
                        headers=["Cookie: sessionid=bench-no-such-session"],
                    )  # fmt: skip
                if "signup" in what:
                    runs[state]["signup"] = run_wrk(
                        server, "/", seconds, "signup.lua", f"outage-{state}-signup",
                        SIGNUP_NONCE=f"{nonce}{state}", **csrf,
                    )  # fmt: skip
                    runs[state]["signup"]["db"] = count_created(f"{nonce}{state}")

            run_wrk(server, "/_ping", warmup, "reference.lua", "outage-warmup")
            measure("all_up", "ping", "home", "signup")
            redises["cache"].stop()
            measure("cache_down", "ping", "home", "signup")
            redises["broker"].stop()
            measure("cache_and_broker_down", "signup")
            redises["sessions"].stop()
            measure("all_down", "home")
            alive = server.alive()
    finally:
        for redis_server in redises.values():
            redis_server.stop()
    problems = [] if alive else ["gunicorn did not answer /_ping after the run"]
    for state, figures in runs.items():
        for kind, run in figures.items():
            errors = {k: v for k, v in run["errors"].items() if v}
            if errors:
                problems.append(f"{state} {kind}: wrk errors {errors}")
            if kind == "signup":
                others = {k: v for k, v in run["statuses"].items() if k != "202"}
                if others or run["db"]["users"] < run["statuses"].get("202", 0):
                    problems.append(f"{state} signup: {others}, {run['db']}")
    up, down = runs["all_up"], runs["cache_down"]
    return {
        "valid": not problems,
        "problems": problems,
        "req_per_s": {
            state: {kind: run["req_per_s"] for kind, run in figures.items()}
            for state, figures in runs.items()
        },
        "ratios": {
            "home_cache_down_vs_all_up": round(
                down["home"]["req_per_s"] / up["home"]["req_per_s"], 3
            ),
            "home_cache_down_vs_ping": round(
                down["home"]["req_per_s"] / down["ping"]["req_per_s"], 3
            ),
            "home_all_down_vs_all_up": round(
                runs["all_down"]["home"]["req_per_s"] / up["home"]["req_per_s"], 3
            ),
            "home_rendered_cache_down_vs_all_up": round(
                down["home_rendered"]["req_per_s"] / up["home_rendered"]["req_per_s"], 3
            ),
            "signup_cache_down_vs_all_up": round(
                down["signup"]["req_per_s"] / up["signup"]["req_per_s"], 3
            ),
            "signup_cache_and_broker_down_vs_all_up": round(
                runs["cache_and_broker_down"]["signup"]["req_per_s"] / up["signup"]["req_per_s"],
                3,
            ),
        },
        "runs": runs,
    }


SCENARIOS = ("email", "signup", "pages", "search", "outage")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS), metavar="scenario")
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--reference-emails", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=10, help="signup: each wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="signup: wrk warm-up seconds")
    parser.add_argument("--profile-signups", type=int, default=300, help="signup: in-process")
    parser.add_argument(
        "--skip-no-recycle",
        action="store_true",
        help="signup: skip the second measurement with gunicorn's --max-requests 0",
    )
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {sorted(unknown)}; choose from {SCENARIOS}")
    if {"signup", "pages", "search", "outage"} & set(args.scenarios) and not shutil.which("wrk"):
        raise SystemExit(
            "bench: the signup scenario needs wrk: apt-get install -y wrk (make bench does it)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    prepare_database()
    report = {"machine": {"cores": os.cpu_count()}, "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    if "email" in args.scenarios:
        report["email"] = bench_email(args.emails, args.reference_emails)
        e = report["email"]
        print(
            f"email: {e['batched']['emails_per_s']} emails/s drained from a backlog of "
            f"{e['batched']['count']} in {e['batched']['api_calls']} Brevo API calls; "
            f"reference one call per email: {e['reference_one_call_per_email']['emails_per_s']}"
            f" emails/s ({e['reference_one_call_per_email']['api_calls']} calls); "
            f"ratio x{e['ratio']}"
        )
    if "signup" in args.scenarios:
        report["signup"] = r = bench_signup(
            args.seconds, args.warmup, args.profile_signups, not args.skip_no_recycle
        )
        sl, rl = r["signup_latency_ms"], r["reference_latency_ms"]
        print(
            f"signup: {r['signups_per_s']} signups/s (p50 {sl['p50']} ms, p95 {sl['p95']} ms); "
            f"reference /_ping: {r['reference_req_per_s']} req/s (p50 {rl['p50']} ms, "
            f"p95 {rl['p95']} ms); ratio x{r['ratio']} (target x{r['target_ratio']}); "
            f"{r['queries_per_signup']} SQL queries per signup"
        )
        if "no_recycle" in r["runs"]:
            n = r["runs"]["no_recycle"]
            boots = r["runs"]["production"]["reference_ping"]["worker_boots"]
            print(
                f"signup without worker recycling (--max-requests 0; {boots} worker boots "
                f"during the reference above): {n['signups']['req_per_s']} signups/s, "
                f"reference {n['reference_ping']['req_per_s']} req/s, ratio x{n['ratio']}"
            )
    if "pages" in args.scenarios:
        report["pages"] = p = bench_pages(args.seconds, args.warmup)
        n = p["nginx"]
        print(
            f"pages: home warm cache {p['home_cached']['req_per_s']} req/s, x{p['cached_ratio']} "
            f"the bare view ({p['reference_req_per_s']} req/s; target x1.5); uncached "
            f"{p['home_uncached']['req_per_s']} req/s, x{p['uncached_ratio']} "
            f"({p['reference_req_per_s_uncached_run']} req/s; target x0.15); nginx micro-cache "
            + (
                f"{n['home_microcached_req_per_s']} req/s vs static file "
                f"{n['static_file_req_per_s']} req/s (x{n['ratio']})"
                if "skipped" not in n
                else n["skipped"]
            )
        )
    if "search" in args.scenarios:
        report["search"] = r = bench_search(args.seconds, args.warmup)
        seq = r["sequential_ms"]
        print(
            f"search (100,000 missions): one at a time p50/p95 uncached {seq['uncached']['p50']}/"
            f"{seq['uncached']['p95']} ms, cached {seq['cached']['p50']}/{seq['cached']['p95']} ms"
            f", bare view {seq['reference']['p50']}/{seq['reference']['p95']} ms; under wrk -c32 "
            f"uncached {r['uncached']['req_per_s']} req/s (p95 {r['uncached']['latency_ms']['p95']}"
            f" ms), cached {r['cached']['req_per_s']} req/s (p95 {r['cached']['latency_ms']['p95']}"
            f" ms), bare view {r['reference_req_per_s']} req/s"
        )
    if "outage" in args.scenarios:
        report["outage"] = o = bench_outage(args.seconds, args.warmup)
        rates, ratios = o["req_per_s"], o["ratios"]
        up, cache_down = rates["all_up"], rates["cache_down"]
        print(
            f"outage: home {up['home']} req/s all up, {cache_down['home']} with the cache Redis "
            f"down (x{ratios['home_cache_down_vs_all_up']}), {rates['all_down']['home']} with "
            "all three down; rendered by Django (page cache bypassed) "
            f"{up['home_rendered']} req/s all up, {cache_down['home_rendered']} cache down "
            f"(x{ratios['home_rendered_cache_down_vs_all_up']}); signups {up['signup']}/s all "
            f"up, {cache_down['signup']}/s cache down, "
            f"{rates['cache_and_broker_down']['signup']}/s cache and broker down "
            f"(x{ratios['signup_cache_and_broker_down_vs_all_up']}); bare view {up['ping']} req/s"
        )
        if not o["valid"]:
            print(f"outage: INVALID RUN {o['problems']}")
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2))
    print(f"report: {RESULTS / 'report.json'}")
    if "signup" in report and not report["signup"]["valid"]:
        banner = "!" * 78
        problems = "\n".join(f"  - {p}" for p in report["signup"]["problems"])
        sys.stderr.write(f"{banner}\nsignup: INVALID RUN\n{problems}\n{banner}\n")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
