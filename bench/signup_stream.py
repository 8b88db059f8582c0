"""The signup scenario's stream measurement (accounts/signup_stream.py): gunicorn with
SIGNUP_STREAM on and `manage.py consume_signups` on the same box, a Redis of its own with
its append-only file on; /_ping in the same processes, half just before the signups and half
just after them.

Figures: accepted signups/s against /_ping (target ×0.4, sustained), the backlog's drain
time after the load stops (target ≤ 10 s), the batch throughput on a pre-filled stream, by
one consumer then two (rows/s, target ≥ 10× the accept rate), the CPU per signup in the web
and consumer processes, accept → row delays (p50/p95) under the load, accept → email handed
to Brevo at a steady 40/s (a Celery worker on the fake Brevo), and appendfsync everysec
against always.
"""

import datetime
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import redis
import requests

from bench.harness import (
    DATABASE_URL,
    RESULTS,
    ROOT,
    SIGNUP_DOMAIN,
    CpuMeter,
    bench_db,
    csrf_pair,
    gunicorn,
    production_env,
    run_signups,
    run_wrk,
    signup_email,
    signup_payload,
    wrk_errors,
)
from portal.testing.servers import (
    celery_worker_command,
    free_port,
    start_logged,
    stop_process_group,
)
from tests.fake_brevo import FakeBrevo

STREAM = "portal:signups"
FILLED = 50_000  # entries written straight into the stream for the batch throughput
BATCH_CONSUMERS = (1, 2)


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

    def ready(self) -> "Consumer":
        deadline = time.monotonic() + 60
        while "consume_signups:" not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: consume_signups did not start:\n{self.tail()}")
            time.sleep(0.1)
        return self

    def cpu_ticks(self) -> int:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def tail(self) -> str:
        return self.log_path.read_text()[-3000:]

    def stop(self):
        stop_process_group(self.process, timeout=20)
        self.log.close()


def delays(nonce: str, until: str = "o.created_at") -> dict:
    """Accept (date_joined, the instant of the XADD) → `until` on its confirmation's outbox
    row: created_at (set in the batch's transaction) or sent_at (Brevo took it), in ms."""
    row = bench_db(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY d), max(d), count(*) FROM ("
        f" SELECT extract(epoch FROM {until} - u.date_joined) * 1000 AS d"
        " FROM accounts_user u JOIN emails_outboundemail o"
        " ON o.idempotency_key = 'signup-confirmation:' || u.id"
        " WHERE u.email LIKE %s) t",
        [signup_email(nonce, "%")],
    )[0]
    p50, p95, worst = (round(float(x or 0), 1) for x in row[:3])
    return {"p50": p50, "p95": p95, "max": worst, "n": row[3]}


def end_to_end(server, env: dict, nonce: str, csrf, rate: int = 40, seconds: int = 10) -> dict:
    """Accept → account row → confirmation handed to Brevo, p50/p95 in ms, at a steady `rate`
    well under saturation (the delay a volunteer sees, not the length of a queue): the
    consumer writes the batch, its commit kicks a Celery worker, which posts to the fake Brevo
    over loopback; `sent_at` is set when Brevo has taken the email."""
    # The confirmations of the runs above were queued with no worker to send them: counted
    # already, they would now be sent first and measure the backlog, not the path.
    bench_db(
        "DELETE FROM emails_outboundemail WHERE status = 'pending' AND to_email LIKE %s"
        " RETURNING 1",
        [f"%@{SIGNUP_DOMAIN}"],
    )
    # A previous run's 100,000 unsent confirmations, just deleted, would leave the due index
    # full of dead entries for the worker's claim to step over (p50 62 -> 470 ms over five
    # runs on one database before this).
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE emails_outboundemail")
    with FakeBrevo(api_key="bench-key") as fake:
        worker_env = production_env(**env, BREVO_API_KEY="bench-key", BREVO_API_URL=fake.url)
        log_path = RESULTS / "worker-signup-e2e.log"
        with open(log_path, "w") as log:
            worker = start_logged(
                celery_worker_command("e2e@%h"), worker_env, log, log_path, "ready."
            )
            try:
                cookie, token = csrf
                session = requests.Session()
                headers = {
                    "Host": "localhost",
                    "Cookie": f"csrftoken={cookie}",
                    "X-CSRFToken": token,
                }
                started, count = time.monotonic(), rate * seconds
                for i in range(count):
                    time.sleep(max(0.0, started + i / rate - time.monotonic()))
                    answer = session.post(
                        server.url + "/api/v1/signup",
                        json=signup_payload(signup_email(nonce, f"e{i}")),
                        headers=headers,
                        timeout=10,
                    )
                    if answer.status_code != 202:
                        raise SystemExit(f"bench: e2e signup answered {answer.status_code}")
                pattern = signup_email(nonce, "%")
                while (
                    bench_db(
                        "SELECT count(*) FROM emails_outboundemail"
                        " WHERE to_email LIKE %s AND status = 'sent'",
                        [pattern],
                    )[0][0]
                    < count
                ):
                    if time.monotonic() > started + seconds + 60:
                        raise SystemExit("bench: e2e confirmations not all sent within 60 s")
                    time.sleep(0.1)
            finally:
                stop_process_group(worker, timeout=20)
    return {"rate_per_s": rate, **delays(nonce, until="o.sent_at")}


def packed(fields: dict) -> dict:
    """accounts.signup_stream.packed's entry (the bench runs without Django loaded)."""
    return {"d": json.dumps(fields)}


def fill(client, site_id: int, nonce: str, count: int) -> None:
    at = datetime.datetime.now(datetime.UTC).isoformat()
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(start + 1000, count)):
            pipe.xadd(
                STREAM,
                packed(
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
                    }
                ),
            )
        pipe.execute()


def drain_filled(stream, env: dict, nonce: str, consumers: int) -> tuple[int, int]:
    """FILLED entries XADDed while no consumer runs, then `consumers` of them started: the
    accounts written and the rows/s from the first account to an empty stream."""
    site_id = bench_db("SELECT id FROM wagtailcore_site WHERE hostname = 'localhost'")[0][0]
    fill(stream.client, site_id, nonce, FILLED)
    pattern = signup_email(nonce, "%")
    # Started together: one that came up seconds before the other would drain alone.
    started = [Consumer(env, f"signup-stream-fill-{consumers}-{i}") for i in range(consumers)]
    try:
        for consumer in started:
            consumer.ready()
        while not bench_db("SELECT 1 FROM accounts_user WHERE email LIKE %s LIMIT 1", [pattern]):
            time.sleep(0.01)
        first_row = time.monotonic()
        stream.drained()
        seconds = time.monotonic() - first_row
    finally:
        for consumer in started:
            consumer.stop()
    filled = bench_db("SELECT count(*) FROM accounts_user WHERE email LIKE %s", [pattern])[0][0]
    return filled, round(filled / seconds)


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


def ping(server, cpu, seconds: int, label: str) -> dict:
    """/_ping for `seconds`, with the CPU samples around it."""
    before = cpu.sample()
    run = run_wrk(server, "/_ping", seconds, "reference.lua", label)
    return {**run, "cpu_samples": (before, cpu.sample())}


def bracketing(pings: list[dict], cpu) -> dict:
    """The /_ping reference from its two halves, measured just before and just after the
    signups: a machine that grew busier or quieter during the run moves both figures."""
    requests = sum(p["requests"] for p in pings)
    spent = Counter()
    for p in pings:
        before, after = p.pop("cpu_samples")
        spent.update({k: after[k] - before[k] for k in after})
    return {
        "requests": requests,
        "seconds": round(sum(p["seconds"] for p in pings), 2),
        "req_per_s": round(requests / sum(p["seconds"] for p in pings)),
        "halves_req_per_s": [p["req_per_s"] for p in pings],
        "cpu_ms_per_request": cpu.per_request(Counter(), spent, requests),
    }


def measure(nonce: str, seconds: int, warmup: int, fsync_seconds: int) -> dict:
    problems = []
    with StreamRedis() as stream:
        env = {"SIGNUP_STREAM": "true", "SIGNUP_STREAM_URL": stream.url}
        with gunicorn("signup-stream", **env) as server:
            consumer = Consumer(env, "signup-stream").ready()
            try:
                run_wrk(server, "/_ping", warmup, "reference.lua", "stream-warmup-ping")
                cpu = CpuMeter(server.process.pid)
                pings = [ping(server, cpu, seconds - seconds // 2, "stream-ping-before")]
                csrf = csrf_pair(server)
                run_signups(server, warmup, "stream-warmup-signup", f"{nonce}sw", csrf)
                stream.drained()
                runs = {}
                for mode, secs in (("everysec", seconds), ("always", fsync_seconds)):
                    if mode == "always":  # the other half of the reference, right after
                        pings.append(ping(server, cpu, seconds // 2, "stream-ping-after"))
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
                row_delays = delays(f"{nonce}se")  # before end_to_end clears the outbox
                e2e = end_to_end(server, env, f"{nonce}e2e", csrf)
                # Batch throughput: a stream filled while no consumer runs, then drained by
                # one consumer, then by two (the compose file's `--scale signups=N`).
                consumer.stop()
                batch = {n: drain_filled(stream, env, f"{nonce}f{n}", n) for n in BATCH_CONSUMERS}
            finally:
                consumer.stop()  # (a no-op once the batch phase has stopped it)
            log = server.log_since(0)
    main = runs["everysec"]
    reference = bracketing(pings, cpu)
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
    for n, (filled, _rows_per_s) in batch.items():
        if filled != FILLED:
            problems.append(f"stream fill, {n} consumer(s): {filled} accounts for {FILLED}")
    for marker in ("Traceback", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT"):
        if marker in log:
            problems.append(f"gunicorn-signup-stream.log: {marker}")
    rows_per_s = {n: rows for n, (_filled, rows) in batch.items()}
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
        "batch_over_accept": {
            n: round(rows / main["req_per_s"], 1) for n, rows in rows_per_s.items()
        },
        "accept_to_row_ms": row_delays,
        "accept_to_brevo_ms": e2e,
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
        f"{r['reference_ping']['req_per_s']} req/s (before / after the signups: "
        f"{' / '.join(str(x) for x in r['reference_ping']['halves_req_per_s'])}): "
        f"x{r['ratio']} (target x{r['target_ratio']}); "
        f"backlog {main['backlog_at_stop']} at stop, drained in {r['drain_seconds']} s "
        f"(target <= 10 s); batch writes "
        + ", ".join(
            f"{rows} rows/s with {n} consumer(s) (x{r['batch_over_accept'][n]} the accept rate)"
            for n, rows in r["batch_rows_per_s"].items()
        )
        + f" (target x10); CPU per signup: web {cpu['gunicorn']} ms, "
        f"consumer {cpu['consumer']} ms, postgres {cpu['postgres']} ms, redis {cpu['redis']} ms; "
        f"accept -> row p50 {delay['p50']} ms, p95 {delay['p95']} ms; accept -> Brevo at "
        f"{r['accept_to_brevo_ms']['rate_per_s']}/s p50 {r['accept_to_brevo_ms']['p50']} ms, "
        f"p95 {r['accept_to_brevo_ms']['p95']} ms; "
        f"appendfsync always: {always['req_per_s']} signups/s "
        f"(x{r['appendfsync_always_over_everysec']} of everysec)"
    )
