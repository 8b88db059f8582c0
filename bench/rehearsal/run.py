"""`make rehearsal` (`python -m bench.rehearsal.run [--quick]`): start the topology, load the
data set once, replay day -2 with Locust while faults are played, check the invariants, write
the report. Exits 1 when an invariant breaks.

State kept between runs (the data set): REHEARSAL_DIR (default /var/tmp/portal-rehearsal): the
private PostgreSQL cluster, one database per size (portal_full, portal_quick). Its streaming
replica is cloned anew at each run, once the data set is there.
Results: bench/results/rehearsal/ (full) or bench/results/rehearsal/quick/.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import redis
import requests

from bench.rehearsal import invariants, report
from bench.rehearsal import plan as plans
from bench.rehearsal.sampler import Sampler
from bench.rehearsal.topology import (
    REPLICA_SETTINGS,
    ROOT,
    Postgres,
    Proc,
    app_env,
    http_ready,
    nginx_proc,
    procfile_command,
    redis_proc,
    redis_ready,
    wait_for,
)
from portal.testing.servers import PostgresReplica, allow_replication, free_port

HOST = "localhost"  # the first demo portal (load_demo), the default site
REPLICA_READS_SQL = (
    "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::bigint, "
    "coalesce(sum(seq_scan + coalesce(idx_scan, 0)) "
    "FILTER (WHERE relname = 'missions_mission'), 0)::bigint, "
    "(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) "
    "FROM pg_stat_user_tables"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] rehearsal: {message}", flush=True)


class Rehearsal:
    def __init__(self, quick: bool, state: Path, out: Path):
        self.quick, self.state, self.out = quick, state, out
        self.plan = plans.build(quick)
        self.db_name = "portal_quick" if quick else "portal_full"
        self.logs = out / "logs"
        self.ports = {
            name: free_port()
            for name in (
                "postgres",
                "redis",
                "redis_sessions",
                "brevo",
                "cloudflare",
                "web1",
                "web2",
                "nginx",
            )
        }
        self.procs: dict[str, Proc] = {}
        # One cluster per size: a QUICK run never waits for, nor stops, the full one's.
        self.pg = Postgres(state / f"pg-{self.db_name}", self.ports["postgres"])
        self.database_url = self.pg.url(self.db_name)
        # The read replica, as compose's postgres-replica: the web instances read search,
        # mission and organisation pages and the missions API from it (portal/replica.py).
        self.replica = PostgresReplica(
            self.ports["postgres"],
            state / f"pg-replica-{self.db_name}",
            options=[word for setting in REPLICA_SETTINGS for word in ("-c", setting)],
        )
        # QUICK only: a worker killed mid-send leaves its emails `sending` until their lease
        # ends (120 s in production), then the sweeper (every 30 s) sends them again; shorter
        # here, so that the drain fits in the 5 minutes. The full run keeps production's.
        quick_outbox = {"EMAIL_LEASE_SECONDS": 20, "EMAIL_SWEEP_INTERVAL": 5} if quick else {}
        self.env = app_env(
            self.database_url,
            self.ports,
            DATABASE_REPLICA_URL=self.replica.url(self.db_name),
            **quick_outbox,
        )
        self.faults: list[dict] = []
        self.timings: dict[str, float] = {}
        self.first_portal = ""

    # --- processes ------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 3600) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            raise SystemExit(f"rehearsal: manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def add(self, name: str, command: list[str], env: dict | None = None) -> Proc:
        proc = Proc(name, command, env or self.env, self.logs).start()
        self.procs[name] = proc
        return proc

    def gunicorn(self, name: str) -> Proc:
        port = self.ports[name]
        env = {
            **self.env,
            "PORT": str(port),
            "WEB_CONCURRENCY": os.environ.get("REHEARSAL_WEB_CONCURRENCY", "3"),
        }
        proc = self.add(name, [*procfile_command("web"), "--bind", f"127.0.0.1:{port}"], env)
        wait_for(name, lambda: http_ready(f"http://127.0.0.1:{port}/_ping"), 60, proc)
        return proc

    def worker(self, name: str) -> Proc:
        proc = self.add(
            name,
            [
                *procfile_command("worker"),
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        wait_for(name, lambda: "ready." in proc.log_path.read_text(errors="replace"), 60, proc)
        return proc

    def start_services(self) -> None:
        log(
            f"PostgreSQL (private cluster in {self.pg.dir}), two Redis, fake Brevo, fake Cloudflare"
        )
        self.pg.start()
        sessions_dir = self.state / f"redis-sessions-{self.db_name}"
        shutil.rmtree(sessions_dir, ignore_errors=True)  # a new stream and new sessions per run
        for service, key, directory in (
            ("redis", "redis", self.state / f"redis-cache-{self.db_name}"),
            ("redis-sessions", "redis_sessions", sessions_dir),
        ):
            proc = redis_proc(service, self.ports[key], directory, self.logs).start()
            self.procs[service] = proc
            wait_for(service, lambda key=key: redis_ready(self.ports[key]), 20, proc)
        for fake in ("brevo", "cloudflare"):
            proc = self.add(
                fake,
                [
                    sys.executable,
                    "-m",
                    "bench.rehearsal.fakes",
                    fake,
                    "--port",
                    str(self.ports[fake]),
                ],
            )
            url = f"http://127.0.0.1:{self.ports[fake]}/_fake/stats"
            wait_for(fake, lambda url=url: requests.get(url, timeout=1).ok, 20, proc)

    def prepare_data(self) -> None:
        started = time.monotonic()
        created = self.pg.ensure_database(self.db_name)
        marker = self.state / f"{self.db_name}.dataset.json"
        if not created and marker.exists() and json.loads(marker.read_text()) == self.plan["data"]:
            log(f"data set reused ({self.db_name}: {self.plan['data']})")
            self.manage("migrate", "--noinput", "-v0")
        else:
            log(f"migrating {self.db_name}")
            self.manage("migrate", "--noinput", "-v0")
            self.first_portal_step()
            log(f"generate_dataset {self.plan['data']}")
            data = self.plan["data"]
            output = self.manage(
                "generate_dataset",
                f"--organisations={data['organisations']}",
                f"--missions={data['missions']}",
                f"--volunteers={data['volunteers']}",
                f"--applications={data['applications']}",
            )
            (self.out / "generate_dataset.txt").write_text(output)
            marker.write_text(json.dumps(self.plan["data"]))
        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            self.manage("collectstatic", "--noinput", "-v0")
        self.timings["data_seconds"] = round(time.monotonic() - started, 1)
        first = self.state / f"{self.db_name}.first_portal.txt"
        if self.first_portal:
            first.write_text(self.first_portal)
        elif first.exists():
            self.first_portal = first.read_text() + " (data set reused)"

    def start_replica(self) -> None:
        """Clone the primary now that the data set is there (a fresh clone each run: the
        primary has moved on since the last one), as compose's postgres-replica does on an
        empty volume, then follow it."""
        started = time.monotonic()
        shutil.rmtree(self.replica.dir, ignore_errors=True)
        allow_replication(self.pg.port, self.pg.data)
        log(f"read replica: pg_basebackup of {self.db_name}, then streaming")
        self.replica.start(timeout=3600)
        self.timings["replica_clone_seconds"] = round(time.monotonic() - started, 1)

    def replica_reads(self) -> dict:
        """Reads served so far by the replica and by the primary: table scans (all tables,
        and the missions table that search and mission pages read), transactions."""
        figures = {}
        for name, url in (
            ("replica", self.replica.url(self.db_name)),
            ("primary", self.database_url),
        ):
            with psycopg.connect(url, autocommit=True) as conn:
                figures[name] = dict(
                    zip(
                        ("scans", "mission_scans", "transactions"),
                        conn.execute(REPLICA_READS_SQL).fetchone(),
                        strict=True,
                    )
                )
        return figures

    def first_portal_step(self) -> None:
        """compose's documented first run makes a portal with `create_portal`; the rehearsal
        needs content too, so it runs load_demo, whose portals (`localhost`,
        `covid19.localhost`) are made through create_portal's own code path."""
        self.first_portal = "load_demo (its portals made through create_portal's code path)"
        log(f"first portal: {self.first_portal}")
        self.manage("load_demo")

    def start_app(self) -> None:
        log("two gunicorn instances, nginx, two Celery workers, beat, the signup writer")
        self.gunicorn("web1")
        self.gunicorn("web2")
        nginx = self.procs["nginx"] = nginx_proc(
            self.ports["nginx"],
            [self.ports["web1"], self.ports["web2"]],
            self.state / "nginx",
            self.logs,
        ).start()
        wait_for("nginx", lambda: http_ready(self.url("/healthz"), HOST), 20, nginx)
        self.worker("worker1")
        self.worker("worker2")
        beat = procfile_command("beat")
        beat[beat.index("-s") + 1] = str(self.state / f"celerybeat-schedule-{self.db_name}")
        self.add("beat", beat)
        self.add("signups", procfile_command("signups"))
        self.start_switch()

    def start_switch(self) -> None:
        """portal_switch in a warm process (bench/rehearsal/switch.py)."""
        self.switcher = subprocess.Popen(
            [sys.executable, "-m", "bench.rehearsal.switch"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if self.switcher.stdout.readline().strip() != "ready":
            raise SystemExit("rehearsal: the portal_switch process did not start")

    def switch(self, *args: str) -> None:
        self.switcher.stdin.write(" ".join(args) + "\n")
        self.switcher.stdin.flush()
        while True:  # the command's own output comes first
            answer = self.switcher.stdout.readline()
            if not answer or answer.startswith(("done", "error")):
                break
        if not answer.startswith("done"):
            raise RuntimeError(f"portal_switch {' '.join(args)}: {answer.strip()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.ports['nginx']}{path}"

    def stop_all(self) -> None:
        if getattr(self, "switcher", None) is not None and self.switcher.poll() is None:
            self.switcher.stdin.close()
            self.switcher.wait(10)
        for proc in reversed(list(self.procs.values())):
            proc.stop(10)
        with contextlib.suppress(Exception):
            self.replica.remove()
        with contextlib.suppress(Exception):
            self.pg.stop()

    # --- the run --------------------------------------------------------------------------

    def build_plan(self) -> dict:
        plan = dict(self.plan)
        plan["run_id"] = uuid.uuid4().hex[:8]
        plan["portal_host"] = HOST
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            # Generated missions (all on the default portal), in the future: public ones.
            rows = conn.execute(
                "SELECT m.id, m.slug, m.places FROM missions_mission m "
                "WHERE m.status = 'validated' AND m.slug LIKE 'gen-%%' "
                "AND m.start_date >= current_date ORDER BY random() LIMIT 3000"
            ).fetchall()
        plan["missions"] = [[pk, slug] for pk, slug, _ in rows]
        plan["hot_missions"] = [[pk, slug] for pk, slug, places in rows if places <= 5][:20]
        count = 300 if self.quick else 3000
        env = {**self.env}
        keys = subprocess.run(
            [sys.executable, "-m", "bench.rehearsal.sessions", str(count)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        plan["sessions"] = json.loads(keys.strip().splitlines()[-1])
        return plan

    def smoke(self, plan: dict) -> None:
        """One request of each kind through nginx before the clock starts."""
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9"}
        checks = {
            "/fr/": 200,
            "/api/v1/missions?postal_code=69007&radius_km=10": 200,
            f"/fr/missions/{plan['missions'][0][0]}-{plan['missions'][0][1]}/": 200,
            "/static/does-not-exist.css": 404,
        }
        for path, expected in checks.items():
            status = requests.get(
                self.url(path), headers=headers, timeout=30, allow_redirects=False
            ).status_code
            if status != expected:
                raise SystemExit(f"rehearsal: smoke GET {path} answered {status}, not {expected}")
        csrf = "r" * 32
        post = {
            **headers,
            "X-CSRFToken": csrf,
            "Cookie": f"csrftoken={csrf}",
            "Origin": f"https://{HOST}",
            "Content-Type": "application/json",
        }
        body = {
            "email": f"rh-{plan['run_id']}-smoke@rehearsal.example.org",
            "first_name": "Camille",
            "last_name": "Martin",
            "postal_code": "69007",
            "birth_date": "1990-05-01",
            "consent": True,
        }
        answer = requests.post(self.url("/api/v1/signup"), json=body, headers=post, timeout=30)
        if answer.status_code != 202:
            raise SystemExit(f"rehearsal: smoke signup {answer.status_code}: {answer.text[:300]}")
        self.smoke_accepted = [body["email"]]
        session = plan["sessions"][0]
        post["Cookie"] += f"; sessionid={session}"
        answer = requests.post(
            self.url(f"/api/v1/missions/{plan['missions'][1][0]}/applications"),
            json={"message": "smoke"},
            headers=post,
            timeout=30,
        )
        if answer.status_code not in (201, 400, 409):
            raise SystemExit(f"rehearsal: smoke application {answer.status_code}: {answer.text}")

    def play_faults(self, plan: dict, t0: float) -> None:
        """Each fault in a thread of its own at its second (a slow one, such as a restart that
        waits for readiness, does not delay the next); real start and end recorded."""
        lock = threading.Lock()

        def play(fault: dict) -> None:
            delay = t0 + fault["at"] - time.time()
            if delay > 0:
                time.sleep(delay)
            start = time.time() - t0
            name = fault["name"]
            log(f"fault: {name} at t={start:.0f} s")
            played = dict(fault)
            try:
                self.fault(name, fault)
            except BaseException as error:  # the run goes on; the report says so
                log(f"fault {name} failed: {error!r}")
                played["error"] = repr(error)
            end = time.time() - t0
            if name == "brevo_down":
                end = start + fault["duration"]
            if fault.get("switch"):  # a switch counts from when it took effect
                played["asked_at"], start = round(start, 2), end
            with lock:
                self.faults.append({**played, "at": round(start, 2), "end": round(end, 2)})

        threads = [threading.Thread(target=play, args=(f,), daemon=True) for f in plan["faults"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        self.faults.sort(key=lambda f: f["at"])

    def fault(self, name: str, fault: dict) -> None:
        duration = fault.get("duration", 0)
        if name == "brevo_down":
            requests.post(
                f"http://127.0.0.1:{self.ports['brevo']}/_fake/down",
                json={"seconds": duration},
                timeout=5,
            )
        elif name == "cache_redis_restart":
            cache = self.procs["redis"]
            cache.stop(5)
            time.sleep(duration)
            cache.start()
            wait_for("redis", lambda: redis_ready(self.ports["redis"]), 20, cache)
        elif name == "gunicorn_kill":
            self.procs["web1"].kill()
            time.sleep(duration)  # then the supervisor (compose's restart policy) starts it
            self.gunicorn("web1")
        elif name == "worker_kill":
            self.procs["worker1"].kill()
            time.sleep(duration)
            self.worker("worker1")
        elif name in ("degraded_on", "degraded_off"):
            self.switch(HOST, "--degraded", name.removeprefix("degraded_"))
        elif name == "postgres_restart":
            self.pg.stop("fast")
            time.sleep(duration)
            self.pg.start()

    def roots(self) -> dict:
        groups = {
            "nginx": ["nginx"],
            "web": ["web1", "web2"],
            "worker": ["worker1", "worker2"],
            "beat": ["beat"],
            "signup_writer": ["signups"],
            "redis_cache": ["redis"],
            "redis_sessions": ["redis-sessions"],
            "brevo": ["brevo"],
            "cloudflare": ["cloudflare"],
            "locust": ["locust"],
        }
        out = {
            k: [self.procs[n].pid for n in names if n in self.procs] for k, names in groups.items()
        }
        out["postgres"] = [self.pg.postmaster_pid()]
        out["postgres_replica"] = [self.replica.pid]
        return out

    def backlog(self) -> dict:
        figures = {}
        sessions = redis.Redis(port=self.ports["redis_sessions"], socket_timeout=2)
        figures["stream"] = sessions.xlen("portal:signups")
        try:
            figures["stream_pending"] = sessions.xpending("portal:signups", "writers")["pending"]
        except redis.ResponseError:
            figures["stream_pending"] = 0
        figures["celery_queue"] = redis.Redis(
            port=self.ports["redis_sessions"], db=1, socket_timeout=2
        ).llen("celery")
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            for status in ("pending", "sending"):
                figures[f"outbox_{status}"] = conn.execute(
                    "SELECT count(*) FROM emails_outboundemail WHERE status = %s", [status]
                ).fetchone()[0]
        return figures

    def drain(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(Exception):
                figures = self.backlog()
                if not any(figures.values()) or time.monotonic() > deadline:
                    return figures
            if time.monotonic() > deadline:
                return {"unreadable": 1}
            time.sleep(2)

    def facts(self, plan: dict, final: dict) -> dict:
        accepted = (self.out / "accepted_signups.txt").read_text().split()
        accepted += getattr(self, "smoke_accepted", [])
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            accounts = dict(
                conn.execute(
                    "SELECT lower(email), id FROM accounts_user WHERE email LIKE %s",
                    [f"rh-{plan['run_id']}-%"],
                ).fetchall()
            )
            overfull = conn.execute(
                "SELECT m.id, m.places, count(*) FROM missions_application a "
                "JOIN missions_mission m ON m.id = a.mission_id "
                "WHERE a.status IN ('pending', 'accepted') "
                "GROUP BY m.id, m.places HAVING count(*) > m.places"
            ).fetchall()
            applied = conn.execute(
                "SELECT status, count(*) FROM missions_application "
                "WHERE created_at > now() - interval '2 hours' AND message IN "
                "('Disponible', 'smoke') GROUP BY status"
            ).fetchall()
        keys = requests.get(f"http://127.0.0.1:{self.ports['brevo']}/_fake/keys", timeout=60)
        bad = json.loads((self.out / "bad_answers.json").read_text())
        return {
            "accepted": accepted,
            "accounts": accounts,
            "brevo_keys": [tuple(k) for k in keys.json()],
            "overfull": [tuple(row) for row in overfull],
            "bad": bad,
            "windows": plans.windows(plan, self.faults),
            "backlog": final,
            "applications": dict(applied),
        }

    def prepare_only(self) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self.start_services()
            self.prepare_data()
        finally:
            self.stop_all()
        log(f"data set ready in {self.timings['data_seconds']} s")
        return 0

    def sizes(self) -> dict:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            db_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        redis_bytes = {}
        for key in ("redis", "redis_sessions"):
            with contextlib.suppress(redis.RedisError):
                info = redis.Redis(port=self.ports[key], socket_timeout=2).info("memory")
                redis_bytes[key] = info["used_memory"]
        return {"database_bytes": db_bytes, "redis_bytes": redis_bytes}

    def run(self) -> int:
        started = time.monotonic()
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self.out.iterdir():
            if old.is_file():
                old.unlink()
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        try:
            self.start_services()
            self.prepare_data()
            self.start_replica()
            self.start_app()
            plan = self.build_plan()
            (self.out / "plan.json").write_text(json.dumps(plan))
            self.smoke(plan)
            reads_before = self.replica_reads()
            t0 = time.time() + 3
            sampler = Sampler(
                self.roots,
                self.out / "samples.jsonl",
                t0,
                self.database_url,
                self.ports["redis_sessions"],
                f"http://127.0.0.1:{self.ports['brevo']}/",
            )
            sampler.start()
            log(
                f"load for {plan['end']} s (Locust, {len(plan['missions'])} missions, "
                f"{len(plan['sessions'])} signed-in volunteers)"
            )
            locust_env = {
                **os.environ,
                "REHEARSAL_PLAN": str(self.out / "plan.json"),
                "REHEARSAL_OUT": str(self.out),
                "REHEARSAL_T0": str(t0),
            }
            self.add(
                "locust",
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "bench/rehearsal/locustfile.py"),
                    "--headless",
                    "-H",
                    self.url(""),
                    "-u",
                    "192",
                    "-r",
                    "500",
                    "--run-time",
                    f"{int(plan['end'] + 5)}s",
                    "--stop-timeout",
                    "15",
                    "--csv",
                    str(self.out / "locust"),
                    "--csv-full-history",
                    "--html",
                    str(self.out / "locust.html"),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                    "--exit-code-on-error",
                    "0",
                ],
                locust_env,
            )
            faults = threading.Thread(target=self.play_faults, args=(plan, t0), daemon=True)
            faults.start()
            self.procs["locust"].process.wait()
            faults.join(120)
            log("load over; draining the backlog")
            drain_started = time.monotonic()
            final = self.drain(120 if self.quick else 400)
            self.timings["drain_seconds"] = round(time.monotonic() - drain_started, 1)
            time.sleep(1)
            sampler.stop()
            (self.out / "faults.json").write_text(json.dumps(self.faults, indent=2))
            reads_after = self.replica_reads()
            facts = self.facts(plan, final)
            facts["replica"] = {
                server: {k: v - reads_before[server][k] for k, v in counts.items()}
                for server, counts in reads_after.items()
            }
            checks = invariants.check_all(facts)
            self.timings["total_seconds"] = round(time.monotonic() - started, 1)
            summary = {
                "sizes": self.sizes(),
                "quick": self.quick,
                "run_id": plan["run_id"],
                "timings": self.timings,
                "first_portal": self.first_portal,
                "invariants": checks,
                "applications": facts["applications"],
                "final_backlog": final,
                "replica": facts["replica"],
                "cloudflare": requests.get(
                    f"http://127.0.0.1:{self.ports['cloudflare']}/", timeout=5
                ).json(),
            }
            (self.out / "summary.json").write_text(json.dumps(summary, indent=2))
        finally:
            log("stopping every process")
            self.stop_all()
        page = report.build(self.out)
        for check in checks:
            log(f"{'ok  ' if check['ok'] else 'FAIL'} {check['name']}: {check['detail']}")
        log(f"report: {page} ({self.timings['total_seconds']} s)")
        return 0 if all(c["ok"] for c in checks) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, short steps (< 5 min)")
    parser.add_argument("--prepare", action="store_true", help="only create the data set")
    args = parser.parse_args(argv)
    state = Path(os.environ.get("REHEARSAL_DIR", "/var/tmp/portal-rehearsal"))
    out = ROOT / "bench" / "results" / "rehearsal"
    if args.quick:
        out = out / "quick"
    rehearsal = Rehearsal(args.quick, state, out)
    if args.prepare:
        return rehearsal.prepare_only()
    return rehearsal.run()


if __name__ == "__main__":
    sys.exit(main())
