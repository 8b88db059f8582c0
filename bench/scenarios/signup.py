"""signup: POST /api/v1/signup with wrk against gunicorn (production settings, 2 sync workers),
next to GET /_ping in the same processes; plus the in-process view of bench/profile_signup.py;
then the same with the signup stream on and its consumer running (bench/signup_stream.py).
Any non-202 or socket error makes the run invalid."""

import json
import os
import subprocess
import sys
import time

import psycopg
import redis
import requests

from bench import signup_stream
from bench.harness import (
    DATABASE_URL,
    REDIS_URL,
    ROOT,
    SIGNUP_DOMAIN,
    WRK_CONNECTIONS,
    WRK_THREADS,
    CpuMeter,
    count_created,
    csrf_pair,
    gunicorn,
    production_env,
    run_signups,
    run_wrk,
    signup_email,
    signup_payload,
    wrk_errors,
)


def delete_bench_accounts() -> str:
    """Forget the accounts of earlier runs (nothing references them but their outbox rows)."""
    like = f"%@{SIGNUP_DOMAIN}"
    try:
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
    problems = []
    with gunicorn(label, extra_args) as server:
        run_wrk(server, "/_ping", warmup, "reference.lua", f"{label}-warmup-ping")
        cpu = CpuMeter(server.process.pid)
        offset, before = server.log_size(), cpu.sample()
        reference = run_wrk(server, "/_ping", seconds, "reference.lua", f"{label}-ping")
        reference["cpu_ms_per_request"] = cpu.per_request(
            before, cpu.sample(), reference["requests"]
        )
        reference["worker_boots"] = server.log_since(offset).count("Booting worker")

        csrf = csrf_pair(server)
        cookie, token = csrf
        headers = {"Host": "localhost", "Cookie": f"csrftoken={cookie}", "X-CSRFToken": token}
        once = requests.post(
            server.url + "/api/v1/signup",
            json=signup_payload(signup_email(f"{nonce}once", "0")),
            headers=headers,
            timeout=10,
        )
        if once.status_code != 202:
            raise SystemExit(
                f"bench: INVALID: one signup with requests answered {once.status_code}, not 202:"
                f"\n{once.text[:500]}\n{server.log_tail()}"
            )
        run_signups(server, warmup, f"{label}-warmup-signup", f"{nonce}w", csrf)
        offset, before = server.log_size(), cpu.sample()
        signups = run_signups(server, seconds, f"{label}-signup", nonce, csrf)
        signups["cpu_ms_per_request"] = cpu.per_request(before, cpu.sample(), signups["requests"])
        signups["worker_boots"] = server.log_since(offset).count("Booting worker")
        alive = server.alive()
        log = server.log_since(0)

    for name, run, expected in (("reference", reference, None), ("signups", signups, "202")):
        errors = wrk_errors(run)
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
        problems.append(f"gunicorn log {server.log_path.name}: {log_problems}")
    return {
        "gunicorn_args": ["-c", "gunicorn.conf.py", *extra_args],
        "reference_ping": reference,
        "signups": {**signups, "db": created},
        "ratio": round(signups["req_per_s"] / reference["req_per_s"], 3),
        "problems": problems,
    }


def run(args) -> dict:
    seconds, warmup = args.seconds, args.warmup
    started = time.monotonic()
    load_at_start = os.getloadavg()[0]
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    nonce = time.strftime("%Y%m%d%H%M%S")
    cleanup = delete_bench_accounts()
    in_process = signup_in_process(nonce, args.profile_signups)
    runs = {"production": measure_server("signup", nonce, seconds, warmup)}
    if not args.skip_no_recycle:
        runs["no_recycle"] = measure_server(
            "signup-norecycle", nonce + "n", seconds, warmup, ["--max-requests", "0"]
        )
    stream = signup_stream.measure(nonce, seconds, warmup, min(seconds, 20))
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
    problems = [p for run in runs.values() for p in run["problems"]] + stream["problems"]
    return {
        "valid": not problems,
        "problems": problems,
        "stream": stream,
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


def summary(r: dict) -> str:
    sl, rl = r["signup_latency_ms"], r["reference_latency_ms"]
    lines = [
        f"signup: {r['signups_per_s']} signups/s (p50 {sl['p50']} ms, p95 {sl['p95']} ms); "
        f"reference /_ping: {r['reference_req_per_s']} req/s (p50 {rl['p50']} ms, "
        f"p95 {rl['p95']} ms); ratio x{r['ratio']} (target x{r['target_ratio']}); "
        f"{r['queries_per_signup']} SQL queries per signup"
    ]
    lines.append(signup_stream.summary(r["stream"]))
    if "no_recycle" in r["runs"]:
        n = r["runs"]["no_recycle"]
        boots = r["runs"]["production"]["reference_ping"]["worker_boots"]
        lines.append(
            f"signup without worker recycling (--max-requests 0; {boots} worker boots "
            f"during the reference above): {n['signups']['req_per_s']} signups/s, "
            f"reference {n['reference_ping']['req_per_s']} req/s, ratio x{n['ratio']}"
        )
    return "\n".join(lines)


def check(r: dict) -> None:
    """An invalid run fails the command (status 1), after the report is written."""
    if not r["valid"]:
        banner = "!" * 78
        problems = "\n".join(f"  - {p}" for p in r["problems"])
        sys.stderr.write(f"{banner}\nsignup: INVALID RUN\n{problems}\n{banner}\n")
        raise SystemExit(1)
