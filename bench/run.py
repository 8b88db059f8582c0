"""`make bench`: throughput figures measured on this machine, as ratios to a reference.

Machines here are shared and noisy: every figure is reported next to a reference measured in
the same run, and only the ratio is meant to be compared between runs.

Scenarios (all by default, or name them: `python -m bench.run email`):
  email   drain a backlog of outbox records through a real Celery worker to the fake Brevo
          over loopback; reference: the same drain with batching off (one API call per email).
"""

import argparse
import json
import os
import subprocess
import sys
import time
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

    migrated = manage("migrate", "--noinput", "-v0")
    if migrated.returncode and "InconsistentMigrationHistory" in migrated.stderr:
        # A bench database migrated by an older tree (e.g. before the custom user model):
        # it holds nothing but bench data, so start it again.
        print(f"bench: {name} has an inconsistent migration history; recreating it")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        migrated = manage("migrate", "--noinput", "-v0")
    for result in (migrated, manage("load_demo") if not migrated.returncode else None):
        if result is not None and result.returncode:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"bench: preparing {name} failed: {' '.join(result.args[2:])}")


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


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", default=["email"])
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--reference-emails", type=int, default=2_000)
    args = parser.parse_args(argv)
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
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2))
    print(f"report: {RESULTS / 'report.json'}")


if __name__ == "__main__":
    main()
