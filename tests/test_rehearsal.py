"""The launch rehearsal's parts that need no running topology (bench/rehearsal/): the
invariant checks, the capacity arithmetic and the report, on canned data; the nginx
configuration it derives from deploy/nginx.conf. `make rehearsal QUICK=1` runs the rest."""

import json
import shutil
import subprocess

import pytest

from bench.rehearsal import capacity, invariants, report
from bench.rehearsal import plan as plans
from bench.rehearsal.topology import (
    PRIMARY_OPTIONS,
    REPLICA_SETTINGS,
    compose_command,
    nginx_config,
    procfile_command,
)

PLAN = plans.build(quick=True)


def test_accepted_signups_need_their_accounts():
    ok = invariants.accepted_have_accounts(["a@x.org", "B@x.org"], {"a@x.org", "b@x.org"})
    missing = invariants.accepted_have_accounts(["a@x.org", "c@x.org"], {"a@x.org"})
    assert ok["ok"] and not missing["ok"]
    assert "1 without an account" in missing["detail"]


def test_one_confirmation_email_per_account():
    accounts = {"a@x.org": 1, "b@x.org": 2, "c@x.org": 3}
    keys = [
        ("a@x.org", "signup-confirmation:1"),
        ("b@x.org", "signup-confirmation:2"),
        ("c@x.org", "signup-confirmation:3"),
        ("c@x.org", "application-received:9"),
    ]
    assert invariants.one_confirmation_each(accounts, keys)["ok"]
    doubled = invariants.one_confirmation_each(accounts, [*keys, keys[0]])
    assert not doubled["ok"] and "1 with more than one" in doubled["detail"]
    lost = invariants.one_confirmation_each(accounts, keys[1:])
    assert not lost["ok"] and "1 with none" in lost["detail"]


def test_places_and_backlog():
    assert invariants.places_respected([])["ok"]
    assert not invariants.places_respected([(12, 3, 4)])["ok"]
    assert invariants.backlog_drained({"stream": 0, "outbox_pending": 0})["ok"]
    assert not invariants.backlog_drained({"stream": 0, "outbox_pending": 2})["ok"]
    assert not invariants.backlog_drained({})["ok"]  # nothing read is not "drained"


def test_server_errors_only_inside_fault_windows():
    faults = [
        {"name": "gunicorn_kill", "at": 100.0, "end": 110.0, "grace": 5},
        {"name": "degraded_on", "at": 120.0, "switch": True},
    ]
    windows = plans.windows(PLAN, faults)
    assert windows == [{"name": "gunicorn_kill", "start": 100.0, "end": 115.0}]
    inside = [(101.5, "signup", 502), (114.9, "home", 0)]
    assert invariants.server_errors_in_windows(inside, windows)["ok"]
    outside = invariants.server_errors_in_windows([*inside, (121.0, "search", 500)], windows)
    assert not outside["ok"] and "1 outside" in outside["detail"]


def test_plan_phases_follow_each_other():
    phases = PLAN["phases"]
    assert phases[0]["start"] == 0
    assert all(a["end"] == b["start"] for a, b in zip(phases, phases[1:], strict=False))
    assert phases[-1]["end"] == PLAN["end"]
    faults = [f["at"] for f in PLAN["faults"]]
    assert faults == sorted(faults) and PLAN["ramp"]["end"] <= faults[0] < PLAN["end"]
    assert PLAN["end"] < 240  # QUICK: the load stays well under the 5 minutes


REPLICA_READS = {
    "replica": {"scans": 900, "mission_scans": 600, "transactions": 1200},
    "primary": {"scans": 2700, "mission_scans": 100, "transactions": 5000},
}


def canned_run(out):
    """What a QUICK run leaves behind, made up: every component burns 0.1 core at rest and,
    in each calibration phase, a known CPU time per request."""
    cost_ms = {
        "home": {"nginx": 0.2},
        "miss": {"web": 20.0, "postgres": 4.0},
        "search": {"web": 10.0, "postgres": 30.0},
        "mission": {"web": 8.0, "postgres_replica": 2.0},
        "signup": {"web": 3.0, "signup_writer": 1.0, "worker": 2.0},
    }
    components = ["nginx", "web", "postgres", "postgres_replica", "signup_writer", "worker"]
    components.append("locust")
    cpu = dict.fromkeys(components, 0.0)
    samples, per_second, emails = [], [], 0
    for t in range(int(PLAN["end"])):
        phase = plans.rates_at(PLAN, t)
        for component in components:
            cpu[component] += 0.1
        for kind, rate in phase["rates"].items():
            per_second.append(
                {
                    "t": t,
                    "name": kind,
                    "count": rate,
                    "failures": 0,
                    "5xx": 0,
                    "p50": 5,
                    "p95": 9,
                    "p99": 20,
                }
            )
            if phase["name"].startswith("calib"):
                for component, ms in cost_ms.get(kind, {}).items():
                    cpu[component] += rate * ms / 1000
            if kind == "signup":
                emails += rate
        samples.append(
            {
                "t": t + 1,
                "cpu": dict(cpu),
                "stream": 0,
                "outbox_pending": 1,
                "emails_sent": emails,
                "replica_lag_s": 0.02 * (t % 5),
                "replica_behind_bytes": 4096 * (t % 3),
            }
        )
    faults = [{**f, "end": f["at"] + f.get("duration", 0)} for f in PLAN["faults"]]
    steps = [
        {
            "step": i + 1,
            "offered_per_s": r,
            "achieved_per_s": r,
            "requests": r * 12,
            "errors": 0,
            "error_share": 0.0,
            "p50_ms": 40,
            "p95_ms": 90 * (i + 1),
            "held": i < 2,
            "skipped": False,
        }
        for i, r in enumerate(PLAN["ramp"]["steps"])
    ]
    checks = invariants.check_all(
        {
            "accepted": ["a@x.org"],
            "accounts": {"a@x.org": 1},
            "brevo_keys": [("a@x.org", "signup-confirmation:1")],
            "overfull": [],
            "bad": [],
            "windows": plans.windows(PLAN, faults),
            "backlog": {"stream": 0},
            "replica": REPLICA_READS,
        }
    )
    files = {
        "plan.json": {**PLAN, "run_id": "canned"},
        "per_second.json": per_second,
        "faults.json": faults,
        "ramp.json": {"held": 20, "saturated_at": 40, "steps": steps},
        "summary.json": {
            "run_id": "canned",
            "invariants": checks,
            "sizes": {"database_bytes": 3 * 2**30, "redis_bytes": {}},
            "replica": REPLICA_READS,
            "timings": {"replica_clone_seconds": 12.5},
        },
    }
    for name, content in files.items():
        (out / name).write_text(json.dumps(content))
    (out / "samples.jsonl").write_text("\n".join(json.dumps(s) for s in samples) + "\n")
    return cost_ms


def test_capacity_recovers_the_cost_of_each_request(tmp_path):
    cost_ms = canned_run(tmp_path)
    data = report.load(tmp_path)
    costs = capacity.per_request(PLAN, data["samples"], data["per_second"])
    for kind, expected in cost_ms.items():
        for component, ms in expected.items():
            assert costs[kind]["cpu_ms"][component] == pytest.approx(ms, rel=0.15), (
                kind,
                component,
            )
        assert costs[kind]["cpu_ms"]["locust"] == pytest.approx(0, abs=0.5)  # idle rate removed
    plan = capacity.plan_for(costs, db_bytes=3 * 2**30)
    # 600 signups/s at 3 ms of web CPU each, plus 1,667 searches... and pages: cores add up.
    visitors = 3_000_000 / 1800
    web = 600 * 3.0 + visitors * (0.5 * 10.0 + 1.0 * 8.0)
    assert plan["cores"]["no CDN"]["web"] == pytest.approx(web / 1000, rel=0.15)
    assert (
        plan["sizing"]["no CDN"]["web_containers"]
        >= plan["sizing"]["behind the CDN"]["web_containers"]
    )
    assert plan["postgres_memory_gb"] == 8  # twice 3 GiB, rounded up to a power of two
    # The replica's share of the mission pages: 1,667 visitors/s, 2 ms each -> 3.3 cores.
    assert plan["cores"]["no CDN"]["postgres_replica"] == pytest.approx(3.33, rel=0.15)
    assert plan["sizing"]["no CDN"]["postgres_replica_cpus"] == 8  # 3.3 / 60% busy -> 8


def test_report_page_and_plots(tmp_path):
    canned_run(tmp_path)
    page = report.build(tmp_path)
    text = page.read_text()
    images = ("requests.png", "latency.png", "errors.png", "backlog.png", "cpu.png", "replica.png")
    for image in images:
        assert (tmp_path / image).stat().st_size > 1000
        assert image in text
    assert "Read replica" in text and "<b>900</b> table scans (25% of all" in text
    assert "the read replica served reads" in text
    assert "Saturation: first step over the limits at <b>40</b>" in text
    assert "Capacity plan" in text and "March 2020" in text
    assert json.loads((tmp_path / "capacity.json").read_text())["plan"]["targets"]


def test_nginx_config_derived_from_deploy(tmp_path):
    conf = nginx_config(18080, [18001, 18002], tmp_path)
    assert "server 127.0.0.1:18001;" in conf and "server 127.0.0.1:18002;" in conf
    assert "web:8000" not in conf and "\nuser " not in conf
    assert "set_real_ip_from 127.0.0.1;" in conf  # the load generator plays the CDN
    assert "proxy_next_upstream error;" in conf  # from deploy/nginx.conf, unchanged
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx binary not installed")
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    result = subprocess.run(
        [nginx, "-t", "-c", str(path), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_the_replica_must_serve_reads():
    served = invariants.replica_served_reads(REPLICA_READS)
    assert served["ok"] and "25% on the replica" in served["detail"]
    idle = {**REPLICA_READS, "replica": {"scans": 40, "mission_scans": 0, "transactions": 90}}
    assert not invariants.replica_served_reads(idle)["ok"]  # the lag checks only


def test_the_replica_can_start_from_the_primary():
    """A hot standby refuses to start with fewer connections than its primary allows."""
    settings = dict(setting.split("=") for setting in REPLICA_SETTINGS)
    assert f"max_connections={settings['max_connections']}" in PRIMARY_OPTIONS


def test_commands_come_from_the_shipped_files():
    assert compose_command("redis")[:3] == ["redis-server", "--maxmemory", "256mb"]
    assert "noeviction" in compose_command("redis-sessions")
    assert procfile_command("web")[-1] == "portal.wsgi:application"
    assert "2" in procfile_command("worker")  # ${CELERY_CONCURRENCY:-2}
