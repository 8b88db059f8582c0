"""email: drain a backlog of outbox records through a real Celery worker to the fake Brevo over
loopback; reference: the same drain with batching off (one API call per email)."""

import json
import subprocess
import sys

import redis
import requests

from bench.harness import REDIS_URL, RESULTS, ROOT, bench_env
from portal.testing.servers import celery_worker_command, start_logged, stop_process_group
from tests.fake_brevo import FakeBrevo


def drain(count: int, batch_size: int, fake_url: str) -> dict:
    """Time a worker draining `count` due records (bench/drain.py); emails/s and API calls."""
    worker_log = RESULTS / f"worker-batch{batch_size}.log"
    env = bench_env(
        BREVO_API_KEY="bench-key",
        BREVO_API_URL=fake_url,
        EMAIL_BATCH_SIZE=batch_size,
        EMAIL_SWEEP_GRACE=0,
    )
    redis.Redis.from_url(REDIS_URL).flushdb()
    with open(worker_log, "w") as log:
        worker = start_logged(celery_worker_command("bench@%h"), env, log, worker_log, "ready.")
        try:
            result = subprocess.run(
                [sys.executable, "-m", "bench.drain", str(count)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            stop_process_group(worker, timeout=30)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(args) -> dict:
    with FakeBrevo(api_key="bench-key") as fake:
        stats_url = fake.base_url + "_fake/stats"
        batched = drain(args.emails, 50, fake.url)
        batched_calls = requests.get(stats_url, timeout=5).json()["api_calls"]
        fake.reset()
        single = drain(args.reference_emails, 1, fake.url)
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


def summary(e: dict) -> str:
    single = e["reference_one_call_per_email"]
    return (
        f"email: {e['batched']['emails_per_s']} emails/s drained from a backlog of "
        f"{e['batched']['count']} in {e['batched']['api_calls']} Brevo API calls; "
        f"reference one call per email: {single['emails_per_s']}"
        f" emails/s ({single['api_calls']} calls); "
        f"ratio x{e['ratio']}"
    )
