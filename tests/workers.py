"""Processes the tests start: a real Celery worker (or beat) on the test database and the Redis
broker, gunicorn on the test database (portal.testing.servers.Gunicorn), throwaway Redis servers."""

import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import kombu.pools
import redis
import redis.sentinel
from django.conf import settings
from django.db import connection

from celery_app import app
from portal.testing.servers import (
    DidNotStart,
    Gunicorn,
    celery_command,
    celery_worker_command,
    free_port,
    kill_process_group,
    start_logged,
    stop_process_group,
)


def worker_env(**extra) -> dict:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.test",
        # The worker must see what the tests commit: point it at the test database.
        DATABASE_URL=(
            f"postgres://{db['USER'] or 'postgres'}:{db['PASSWORD'] or ''}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class CeleryWorker:
    def __init__(self, concurrency: int = 1, log_path: Path | None = None, **env):
        self.concurrency = concurrency
        self.env = env
        self.log_path = log_path or Path("/tmp") / f"portal-test-worker-{os.getpid()}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return celery_worker_command(
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h", concurrency=self.concurrency
        )

    ready_marker = "ready."

    def start(self, timeout: float = 30) -> "CeleryWorker":
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        env = worker_env(**self.env)
        try:
            self.process = start_logged(
                self.command(), env, self.log, self.log_path, self.ready_marker, timeout
            )
        except DidNotStart:
            self.log.close()
            raise
        return self

    def kill(self):
        """SIGKILL the whole worker (main process and children), as a crash would."""
        if self.process:
            kill_process_group(self.process)

    def stop(self):
        if self.process:
            stop_process_group(self.process)
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def purge_broker():
    """Drop messages a previous run left in the test broker database."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


class RedisServer:
    """A throwaway redis-server, so a test can take its broker down and bring it back.

    With `data_dir`, it keeps its data on disk (append-only file) across a stop and start,
    as the sessions Redis does in production. With `replica_of`, a replica of that server.
    """

    def __init__(
        self,
        port: int | None = None,
        data_dir: Path | None = None,
        appendfsync: str = "always",
        replica_of: "RedisServer | None" = None,
    ):
        self.port = port or free_port()
        self.data_dir = data_dir
        self.appendfsync = appendfsync
        self.replica_of = replica_of
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        # A directory of its own even without data: a replica's first sync writes an RDB
        # file there (dump.rdb in the working directory otherwise).
        persistence = ["--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="redis-test-")]
        if self.data_dir:
            persistence = ["--appendonly", "yes", "--appendfsync", self.appendfsync]
            persistence += ["--dir", self.data_dir]
        if self.replica_of:
            persistence += ["--replicaof", "127.0.0.1", self.replica_of.port]
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *map(str, persistence),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self):
        """SIGKILL, as a host crash: only what the append-only file holds comes back."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def use_broker(url: str) -> None:
    """Point this process's Celery producer at another broker (drops pooled connections).

    The write/read URLs too: Celery prefers a CELERY_BROKER_URL environment variable to
    `broker_url`, and a run with its own broker database sets that variable. The app's pools
    are kombu's process-wide ones, keyed by URL: reset empties that registry, so coming back
    to a broker opens new connections instead of acquiring from a pool closed here."""
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


class CeleryBeat(CeleryWorker):
    ready_marker = ""  # beat prints nothing reliable; the test waits for its effect

    def command(self) -> list[str]:
        schedule = Path("/tmp") / f"portal-test-beat-{os.getpid()}-{time.monotonic_ns()}"
        return celery_command("beat", "--loglevel=INFO", "-s", str(schedule))


def wait_until(predicate, timeout: float = 20, interval: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")


class WebServer(Gunicorn):
    """gunicorn serving portal.wsgi on a free loopback port, on the test database."""

    def __init__(self, workers: int = 1, **env):
        args = ["-w", workers, "--access-logfile", "/dev/null"]
        super().__init__(worker_env(**env), args)


class HangUpServer:
    """A TCP server that accepts and hangs up at once, counting the connections: a Redis or a
    broker that is "there" but never answers, to see how often a client knocks."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.accepted = 0
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.close()


SENTINEL_QUORUM = 2  # of three sentinels


class RedisSentinel:
    """One `redis-server --sentinel` on loopback watching `masters` ({name: RedisServer}),
    with tiny delays so a failover takes about a second (down after 300 ms)."""

    def __init__(self, masters: dict[str, RedisServer], directory: Path):
        self.port = free_port()
        self.config = directory / f"sentinel-{self.port}.conf"
        lines = [f"port {self.port}", "bind 127.0.0.1", f"dir {directory}"]
        for name, server in masters.items():
            lines += [
                f"sentinel monitor {name} 127.0.0.1 {server.port} {SENTINEL_QUORUM}",
                f"sentinel down-after-milliseconds {name} 300",
                f"sentinel failover-timeout {name} 2000",
                f"sentinel parallel-syncs {name} 1",
            ]
        self.config.write_text("\n".join(lines) + "\n")  # Sentinel rewrites it: its own file
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisSentinel":
        self.process = subprocess.Popen(
            ["redis-server", str(self.config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=0.5, decode_responses=True)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class SentinelSet:
    """A master and a replica per name, and three sentinels watching them all, on loopback.

    Ready once every sentinel knows the two others and each master's replica (sentinels find
    each other through the masters' hello channel, every second or two): a failover needs a
    majority of sentinels that know each other.
    """

    def __init__(self, names: tuple[str, ...], directory: Path, sentinels: int = 3):
        self.masters = {name: RedisServer() for name in names}
        self.replicas = {
            name: RedisServer(replica_of=master) for name, master in self.masters.items()
        }
        self.directory = directory
        self.count = sentinels
        self.sentinels: list[RedisSentinel] = []

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", sentinel.port) for sentinel in self.sentinels]

    def start(self, timeout: float = 20) -> "SentinelSet":
        for server in [*self.masters.values(), *self.replicas.values()]:
            server.start()
        self.sentinels = [RedisSentinel(self.masters, self.directory) for _ in range(self.count)]
        for sentinel in self.sentinels:
            sentinel.start()
        wait_until(self.ready, timeout, 0.1, "the sentinels did not find each other in time")
        return self

    def ready(self) -> bool:
        try:
            for sentinel in self.sentinels:
                client = sentinel.client()
                for name in self.masters:
                    if len(client.sentinel_sentinels(name)) < self.count - 1:
                        return False
                    if not client.sentinel_slaves(name):
                        return False
            return all(
                replica.client().info("replication")["master_link_status"] == "up"
                for replica in self.replicas.values()
            )
        except redis.RedisError:
            return False

    def replicated(self) -> bool:
        """Each replica has everything its master wrote so far."""
        for name, master in self.masters.items():
            offset = master.client().info("replication")["master_repl_offset"]
            if self.replicas[name].client().info("replication")["slave_repl_offset"] < offset:
                return False
        return True

    def master_port(self, name: str) -> int | None:
        """The master's port as a client finds it now: the first sentinel that names a master
        it sees up (right after a failover, a sentinel may still flag the new one down)."""
        sentinels = redis.sentinel.Sentinel(self.addresses, socket_timeout=0.5)
        try:
            return int(sentinels.discover_master(name)[1])
        except redis.RedisError:
            return None
        finally:
            sentinels.close()

    def stop(self):
        for process in [*self.sentinels, *self.replicas.values(), *self.masters.values()]:
            process.stop()

    def __enter__(self) -> "SentinelSet":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
