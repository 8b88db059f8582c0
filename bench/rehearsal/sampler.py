"""Every second: CPU seconds used so far by each component (a process and all its descendants,
reaped ones included), the backlogs (signup stream, outbox, Celery queue) and the read
replica's lag as the primary sees it (replay lag in seconds, WAL bytes not yet replayed).

A component's CPU is cumulative: user + system time of every live process of its tree, plus
what its processes' reaped children used (gunicorn's recycled workers, PostgreSQL's finished
backends). A restarted component (new root) carries its previous total forward, so the series
never goes back.
"""

import contextlib
import json
import threading
import time
from pathlib import Path

import psutil
import psycopg
import redis
import requests

REPLICA_LAG_SQL = (
    "SELECT EXTRACT(EPOCH FROM replay_lag)::float8, "
    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 FROM pg_stat_replication LIMIT 1"
)


def tree_cpu(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


class Sampler(threading.Thread):
    """`roots()` -> {component: [pid, ...]} (read each second: restarts change pids)."""

    def __init__(
        self,
        roots,
        out: Path,
        t0: float,
        database_url: str,
        sessions_port: int,
        brevo_url: str,
        stream_key: str = "portal:signups",
    ):
        super().__init__(daemon=True, name="rehearsal-sampler")
        self.roots, self.out, self.t0 = roots, out, t0
        self.database_url, self.stream_key = database_url, stream_key
        self.brevo_url = brevo_url
        self.sessions = redis.Redis(port=sessions_port, socket_timeout=1)
        self.broker = redis.Redis(port=sessions_port, db=1, socket_timeout=1)
        self.stopping = threading.Event()
        self.carried: dict[str, float] = {}  # CPU of components' former roots
        self.last: dict[tuple, float] = {}  # (component, pid) -> last reading
        self.conn = None
        self.latest: dict = {}

    def cpu(self) -> dict[str, float]:
        out = {}
        for component, pids in self.roots().items():
            live = {}
            for pid in pids:
                if pid:
                    live[(component, pid)] = tree_cpu(pid)
            for key in [k for k in self.last if k[0] == component and k not in live]:
                self.carried[component] = self.carried.get(component, 0.0) + self.last.pop(key)
            for key, value in live.items():
                self.last[key] = max(value, self.last.get(key, 0.0))
            out[component] = round(
                self.carried.get(component, 0.0)
                + sum(v for k, v in self.last.items() if k[0] == component),
                3,
            )
        return out

    def backlog(self) -> dict:
        figures = {}
        with contextlib.suppress(redis.RedisError):
            figures["stream"] = self.sessions.xlen(self.stream_key)
            figures["celery_queue"] = self.broker.llen("celery")
        with contextlib.suppress(requests.RequestException, ValueError):
            stats = requests.get(self.brevo_url + "_fake/stats", timeout=1).json()
            figures["emails_sent"] = stats["messages"]
            figures["brevo_calls"] = stats["requests"]
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=1)
            rows = self.conn.execute(
                "SELECT status, count(*) FROM emails_outboundemail "
                "WHERE status IN ('pending', 'sending') GROUP BY status"
            ).fetchall()
            counts = dict(rows)
            figures["outbox_pending"] = counts.get("pending", 0)
            figures["outbox_sending"] = counts.get("sending", 0)
            replica = self.conn.execute(REPLICA_LAG_SQL).fetchone()
            if replica is not None:  # None: no replica streaming at this second
                figures["replica_lag_s"] = replica[0] or 0.0  # NULL once idle and caught up
                figures["replica_behind_bytes"] = replica[1] or 0.0
        except psycopg.Error:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
        return figures

    def sample(self) -> dict:
        return {"t": round(time.time() - self.t0, 2), "cpu": self.cpu(), **self.backlog()}

    def run(self) -> None:
        with open(self.out, "a") as out:
            while not self.stopping.is_set():
                started = time.monotonic()
                self.latest = self.sample()
                out.write(json.dumps(self.latest) + "\n")
                out.flush()
                self.stopping.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
