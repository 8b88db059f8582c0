"""The signup scenario's stream measurement (accounts/signup_stream.py): gunicorn with
SIGNUP_STREAM on and `manage.py consume_signups` on the same box, a Redis of its own with
its append-only file on; /_ping first, in the same processes.

Figures: accepted signups/s against /_ping (target ×0.4, sustained), the backlog's drain
time after the load stops (target ≤ 10 s), the consumer's batch throughput on a pre-filled
stream (rows/s, target ≥ 10× the accept rate), the CPU per signup in the web and consumer
processes, accept → row delays (p50/p95), and appendfsync everysec against always.
"""

import datetime
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from bench.harness import (
    RESULTS,
    ROOT,
    CpuMeter,
    bench_db,
    csrf_pair,
    gunicorn,
    production_env,
    run_signups,
    run_wrk,
    signup_email,
    wrk_errors,
)
from portal.testing.servers import free_port, stop_process_group

STREAM = "portal:signups"
FILLED = 20_000  # entries written straight into the stream for the batch throughput


class StreamRedis:
    """redis-server as redis-sessions runs in production: no eviction, AOF on."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(self.dir)]
            + ["--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL,
        )
        self.client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                self.client.ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise SystemExit("bench: the stream's redis-server did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(10)

    def drained(self, timeout: float = 120) -> float:
        """Seconds until the stream is empty (every entry written and acknowledged)."""
        started = time.monotonic()
        while self.client.xlen(STREAM):
            if time.monotonic() - started > timeout:
                raise SystemExit(f"bench: stream not drained in {timeout} s")
            time.sleep(0.02)
        return round(time.monotonic() - started, 2)


class Consumer:
    def __init__(self, env: dict, label: str):
        self.log_path = RESULTS / f"consumer-{label}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "consume_signups"],
            cwd=ROOT,
            env=production_env(**env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "consume_signups:" not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: consume_signups did not start:\n{self.tail()}")
            time.sleep(0.1)

    def cpu_ticks(self) -> int:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def tail(self) -> str:
        return self.log_path.read_text()[-3000:]

    def stop(self):
        stop_process_group(self.process, timeout=20)
        self.log.close()


def delays(nonce: str) -> dict:
    """Accept (date_joined, the instant of the XADD) → row and confirmation (outbox
    created_at, set in the batch's transaction), in ms."""
    row = bench_db(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY d), max(d), count(*) FROM ("
        " SELECT extract(epoch FROM o.created_at - u.date_joined) * 1000 AS d"
        " FROM accounts_user u JOIN emails_outboundemail o"
        " ON o.idempotency_key = 'signup-confirmation:' || u.id"
        " WHERE u.email LIKE %s) t",
        [signup_email(nonce, "%")],
    )[0]
    p50, p95, worst = (round(float(x or 0), 1) for x in row[:3])
    return {"p50": p50, "p95": p95, "max": worst, "n": row[3]}


def fill(client, site_id: int, nonce: str, count: int) -> None:
    at = datetime.datetime.now(datetime.UTC).isoformat()
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(start + 1000, count)):
            pipe.xadd(
                STREAM,
                {
                    "kind": "signup",
                    "email": signup_email(nonce, f"f{i}"),
                    "site": str(site_id),
                    "language": "fr",
                    "next": "",
                    "at": at,
                    "first_name": "Camille",
                    "last_name": "Martin",
                    "postal_code": "69007",
                    "birth_date": "1990-05-01",
                    "phone": "",
                },
            )
        pipe.execute()


def signups_run(server, stream, consumer, cpu, seconds, label, nonce, csrf) -> dict:
    before, consumer_before = cpu.sample(), consumer.cpu_ticks()
    run = run_signups(server, seconds, label, nonce, csrf)
    backlog = stream.client.xlen(STREAM)
    run["backlog_at_stop"] = backlog
    run["drain_seconds"] = stream.drained()
    run["cpu_ms_per_request"] = cpu.per_request(before, cpu.sample(), run["requests"])
    ticks = consumer.cpu_ticks() - consumer_before
    run["cpu_ms_per_request"]["consumer"] = round(ticks * 1000 / cpu.tick / run["requests"], 3)
    created = bench_db(
        "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [signup_email(nonce, "%")]
    )[0][0]
    emails = bench_db(
        "SELECT count(*) FROM emails_outboundemail WHERE to_email LIKE %s",
        [signup_email(nonce, "%")],
    )[0][0]
    run["db"] = {"users": created, "outbox_emails": emails}
    return run


def measure(nonce: str, seconds: int, warmup: int, fsync_seconds: int) -> dict:
    problems = []
    with StreamRedis() as stream:
        env = {"SIGNUP_STREAM": "true", "SIGNUP_STREAM_URL": stream.url}
        with gunicorn("signup-stream", **env) as server:
            consumer = Consumer(env, "signup-stream")
            try:
                run_wrk(server, "/_ping", warmup, "reference.lua", "stream-warmup-ping")
                cpu = CpuMeter(server.process.pid)
                before = cpu.sample()
                reference = run_wrk(server, "/_ping", seconds, "reference.lua", "stream-ping")
                reference["cpu_ms_per_request"] = cpu.per_request(
                    before, cpu.sample(), reference["requests"]
                )
                csrf = csrf_pair(server)
                run_signups(server, warmup, "stream-warmup-signup", f"{nonce}sw", csrf)
                stream.drained()
                runs = {}
                for mode, secs in (("everysec", seconds), ("always", fsync_seconds)):
                    stream.client.config_set("appendfsync", mode)
                    runs[mode] = signups_run(
                        server,
                        stream,
                        consumer,
                        cpu,
                        secs,
                        f"stream-{mode}",
                        f"{nonce}s{mode[0]}",
                        csrf,
                    )
                stream.client.config_set("appendfsync", "everysec")
                # Batch throughput: a stream filled while no consumer runs, then drained.
                consumer.stop()
                site_id = bench_db("SELECT id FROM wagtailcore_site WHERE hostname = 'localhost'")[
                    0
                ][0]
                fill(stream.client, site_id, f"{nonce}f", FILLED)
                consumer = Consumer(env, "signup-stream-fill")
                pattern = signup_email(f"{nonce}f", "%")
                while not bench_db(
                    "SELECT 1 FROM accounts_user WHERE email LIKE %s LIMIT 1", [pattern]
                ):
                    time.sleep(0.01)
                first_row = time.monotonic()
                stream.drained()
                batch_seconds = time.monotonic() - first_row
                filled = bench_db(
                    "SELECT count(*) FROM accounts_user WHERE email LIKE %s", [pattern]
                )[0][0]
            finally:
                consumer.stop()
            log = server.log_since(0)
    main = runs["everysec"]
    for mode, run in runs.items():
        if wrk_errors(run):
            problems.append(f"stream {mode}: wrk errors {wrk_errors(run)}")
        others = {k: v for k, v in run["statuses"].items() if k != "202"}
        if others:
            problems.append(f"stream {mode}: non-202 responses {others}")
        answered = run["statuses"].get("202", 0)
        if not answered <= run["db"]["users"] <= run["requests_generated"]:
            problems.append(f"stream {mode}: {run['db']['users']} accounts for {answered} 202s")
        if run["db"]["outbox_emails"] != run["db"]["users"]:
            problems.append(
                f"stream {mode}: {run['db']['outbox_emails']} emails, {run['db']['users']} accounts"
            )
    if filled != FILLED:
        problems.append(f"stream fill: {filled} accounts for {FILLED} entries")
    for marker in ("Traceback", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT"):
        if marker in log:
            problems.append(f"gunicorn-signup-stream.log: {marker}")
    rows_per_s = round(filled / batch_seconds)
    ratio = round(main["req_per_s"] / reference["req_per_s"], 3)
    return {
        "reference_ping": reference,
        "signups": runs,
        "ratio": ratio,
        "target_ratio": 0.4,
        "meets_target": ratio >= 0.4,
        "drain_seconds": main["drain_seconds"],
        "drain_target_seconds": 10,
        "batch_rows_per_s": rows_per_s,
        "batch_over_accept": round(rows_per_s / main["req_per_s"], 1),
        "accept_to_row_ms": delays(f"{nonce}se"),
        "appendfsync_always_over_everysec": round(
            runs["always"]["req_per_s"] / main["req_per_s"], 3
        ),
        "problems": problems,
    }


def summary(r: dict) -> str:
    main, always = r["signups"]["everysec"], r["signups"]["always"]
    cpu, delay = main["cpu_ms_per_request"], r["accept_to_row_ms"]
    return (
        f"signup stream: {main['req_per_s']} accepted signups/s against /_ping "
        f"{r['reference_ping']['req_per_s']} req/s: x{r['ratio']} (target x{r['target_ratio']}); "
        f"backlog {main['backlog_at_stop']} at stop, drained in {r['drain_seconds']} s "
        f"(target <= 10 s); batch writes {r['batch_rows_per_s']} rows/s "
        f"(x{r['batch_over_accept']} the accept rate); CPU per signup: web {cpu['gunicorn']} ms, "
        f"consumer {cpu['consumer']} ms, postgres {cpu['postgres']} ms, redis {cpu['redis']} ms; "
        f"accept -> row p50 {delay['p50']} ms, p95 {delay['p95']} ms; "
        f"appendfsync always: {always['req_per_s']} signups/s "
        f"(x{r['appendfsync_always_over_everysec']} of everysec)"
    )
