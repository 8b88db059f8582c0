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

Each scenario is a module of bench/scenarios/ (run(args) -> its part of the report, and
summary(part) -> the lines printed); bench/harness.py holds what they share.
"""

import argparse
import importlib
import os
import shutil
import sys
import time

from bench.harness import RESULTS, ROOT, prepare_database, write_report
from portal.testing.servers import DidNotStart

SCENARIOS = ("email", "signup", "pages", "search", "outage")


def parse_args(argv=None) -> argparse.Namespace:
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
    return args


def main(argv=None):
    args = parse_args(argv)
    if {"signup", "pages", "search", "outage"} & set(args.scenarios) and not shutil.which("wrk"):
        raise SystemExit(
            "bench: the signup scenario needs wrk: apt-get install -y wrk (make bench does it)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    prepare_database()
    report = {"machine": {"cores": os.cpu_count()}, "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    for name in SCENARIOS:
        if name in args.scenarios:
            scenario = importlib.import_module(f"bench.scenarios.{name}")
            try:
                report[name] = scenario.run(args)
            except DidNotStart as error:
                raise SystemExit(f"bench: {error}") from None
            print(scenario.summary(report[name]))
    print(f"report: {write_report(report)}")
    if "signup" in report:
        importlib.import_module("bench.scenarios.signup").check(report["signup"])


if __name__ == "__main__":
    main()
