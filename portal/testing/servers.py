"""Processes that the tests and `make bench` start around the portal: free loopback ports,
gunicorn serving portal.wsgi, the Celery command line, a process started and awaited in its
log, and stopping a process group.

No pytest and no Django settings here: `bench/` imports this outside any test run, and each
caller passes the complete environment its processes run with.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent.parent


class DidNotStart(RuntimeError):
    """A server exited or did not answer in time; the message ends with its log's tail."""


def port_is_free(port: int) -> bool:
    """Free on loopback and on all interfaces (gunicorn.conf.py binds 0.0.0.0 by default)."""
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port() -> int:
    for _ in range(20):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port_is_free(port):
            return port
    raise DidNotStart("no free loopback port found")


def celery_command(*args: str) -> list[str]:
    """`celery -A celery_app <args>` with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", "celery_app", *args]


def celery_worker_command(name: str, concurrency: int = 2) -> list[str]:
    """A prefork worker logging at INFO (its "ready." line tells start_logged it is up)."""
    return celery_command(
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        name,
    )


def start_logged(
    command: list[str], env: dict, log, log_path: Path, ready_marker: str | None, timeout=60
) -> subprocess.Popen:
    """`command` in its own process group, writing to `log` (open on `log_path`); returned
    once `ready_marker` is in the log (at once when None). Stopped if it exits or is late."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    while ready_marker and ready_marker not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process_group(process)
            tail = log_path.read_text(errors="replace")[-3000:]
            what = " ".join(command[1:])[:80]
            raise DidNotStart(f"{what}: not ready in {timeout} s ({process.returncode}):\n{tail}")
        time.sleep(0.1)
    return process


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL a process started with start_new_session=True and its children, as a crash."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def stop_process_group(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM to the whole group (graceful stop), SIGKILL if it outlives `timeout`."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_process_group(process)


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py portal.wsgi:application` on a free loopback port.

    gunicorn.conf.py binds 0.0.0.0:$PORT; `--bind 127.0.0.1:PORT` keeps it on loopback. `env`
    is the processes' whole environment (PORT is added); `args` come after the config and
    override it (`-w 4`, `--max-requests 0`). Its own process group: the master and its
    workers only, stopped together. Ready once /_ping answers "pong".
    """

    def __init__(self, env: dict, args=(), log_path: Path | None = None, start_timeout=30):
        self.start_timeout = start_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PORT": str(self.port)}
        self.args = [str(arg) for arg in args]
        self.log_path = log_path or Path(tempfile.gettempdir()) / (
            f"portal-gunicorn-{os.getpid()}-{self.port}.log"
        )
        self.process: subprocess.Popen | None = None
        self.log = None

    def command(self) -> list[str]:
        config = ["-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", *self.args]
        return [sys.executable, "-m", "gunicorn", *config, "portal.wsgi:application"]

    def start(self) -> "Gunicorn":
        if not port_is_free(self.port):
            raise DidNotStart(f"gunicorn: port {self.port} is taken")
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.start_timeout
        try:
            while True:
                if self.process.poll() is not None:
                    raise DidNotStart(
                        f"gunicorn exited with {self.process.returncode} at start; see "
                        f"{self.log_path}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(requests.RequestException):  # not listening yet
                    if self.get("/_ping").text == "pong":
                        return self
                if time.monotonic() > deadline:
                    raise DidNotStart(
                        f"gunicorn did not answer /_ping in {self.start_timeout} s; "
                        f"see {self.log_path}:\n"
                        f"{self.log_tail()}"
                    )
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise

    def get(self, path: str, **kwargs):
        """GET with Host: localhost (the demo portal), as the tests and wrk send it."""
        return requests.get(self.url + path, headers={"Host": "localhost"}, timeout=5, **kwargs)

    def alive(self) -> bool:
        try:
            return self.process.poll() is None and self.get("/_ping").status_code == 200
        except Exception:
            return False

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-lines:])

    def log_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        self.log.flush()
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def stop(self) -> None:
        """Graceful: gunicorn.conf.py gives requests in flight 25 s (graceful_timeout)."""
        if self.process is not None:
            stop_process_group(self.process, timeout=40)
        if self.log is not None:
            self.log.close()
            self.log = None

    def kill(self) -> None:
        if self.process is not None:
            kill_process_group(self.process)

    def __enter__(self) -> "Gunicorn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb in a temporary directory, a free port, fsync
    off), so a test can stop the database under load without touching the machine's one.

    Run as the `postgres` system user when started as root (initdb refuses root). `load_from`
    copies a database (schema and rows) with pg_dump | pg_restore: seconds, not the minutes
    the migrations take.
    """

    def __init__(self, name: str = "portal"):
        self.name = name
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    def run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = as_postgres_user([str(PG_BIN / program), *args])
        return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> "PostgresServer":
        if not self.data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres", "postgres")
            self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -k {self.dir}"
        options += " -c synchronous_commit=off -c full_page_writes=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        """Fast shutdown: sessions are cut, as when the database host goes away."""
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def load_from(self, source_url: str) -> "PostgresServer":
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.name)
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "-Fc", "--no-owner", source_url],
            check=True,
            capture_output=True,
        ).stdout
        restore = subprocess.run(
            [str(PG_BIN / "pg_restore"), "--no-owner", "-d", self.url],
            input=dump,
            capture_output=True,
        )
        errors = [
            line
            for line in restore.stderr.decode().splitlines()
            if line.startswith("pg_restore: error") and "earth" not in line
        ]
        # A known pg_dump limit: the earthdistance index (search_path inside ll_to_earth) is
        # not restored; nearby-mission search is slower in the copy, nothing else differs.
        if errors or (restore.returncode and "earth" not in restore.stderr.decode()):
            raise DidNotStart(f"pg_restore failed: {restore.stderr.decode()[-2000:]}")
        return self

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def as_postgres_user(command: list[str]) -> list[str]:
    """initdb, postgres and the files they own refuse root: run as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def postgres_env(**extra) -> dict:
    """This environment with PostgreSQL's programs on PATH, as in the postgres image."""
    return {**os.environ, "PATH": f"{PG_BIN}:{os.environ['PATH']}", **extra}


def allow_replication(port: int, data: Path, password: str = "replicator") -> bool:
    """Run deploy/postgres-replication.sh on a cluster, as the postgres image runs it on a new
    one: the `replicator` role and its pg_hba line (then a reload). False if the role exists."""
    url = f"postgres://postgres@127.0.0.1:{port}/postgres"
    exists = subprocess.run(
        [str(PG_BIN / "psql"), url, "-tAc", "SELECT 1 FROM pg_roles WHERE rolname='replicator'"],
        check=True,
        capture_output=True,
        text=True,
    )
    if exists.stdout.strip():
        return False
    env = postgres_env(
        PGHOST="127.0.0.1",
        PGPORT=str(port),
        PGDATA=str(data),
        POSTGRES_USER="postgres",
        POSTGRES_DB="postgres",
        REPLICATION_PASSWORD=password,
    )
    script = ["sh", str(ROOT / "deploy" / "postgres-replication.sh")]
    subprocess.run(as_postgres_user(script), env=env, check=True, capture_output=True, cwd="/")
    reload = [str(PG_BIN / "pg_ctl"), "-D", str(data), "reload"]
    subprocess.run(as_postgres_user(reload), check=True, capture_output=True, cwd="/")
    return True


class PostgresReplica:
    """A hot standby of a loopback primary, cloned and run by deploy/postgres-replica.sh as
    compose's `postgres-replica` service runs it (pg_basebackup, then streaming replication).
    The primary needs the replication role first (allow_replication). `options` go to
    postgres (`-c name=value`): a standby needs max_connections at least the primary's."""

    def __init__(self, primary_port: int, directory: Path | None = None, options=()):
        self.primary_port = primary_port
        self.port = free_port()
        self.dir = directory or Path(tempfile.mkdtemp(prefix="portal-pg-replica-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "replica.log"
        self.options = [str(option) for option in options]
        self.process: subprocess.Popen | None = None

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self, timeout: float = 300) -> "PostgresReplica":
        """Clone (unless the data directory is there already) and wait for a standby that
        accepts connections."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        env = postgres_env(
            PGDATA=str(self.data),
            PRIMARY_HOST="127.0.0.1",
            PRIMARY_PORT=str(self.primary_port),
            PGPORT=str(self.port),
        )
        script = ["sh", str(ROOT / "deploy" / "postgres-replica.sh")]
        loopback = ["-c", "listen_addresses=127.0.0.1", "-k", str(self.dir)]
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                as_postgres_user([*script, *loopback, *self.options]),
                env=env,
                cwd="/",
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.in_recovery():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise DidNotStart(f"replica did not start; {self.log_path}:\n{self.log_tail()}")
            time.sleep(0.2)
        return self

    def in_recovery(self) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=1) as conn:
                return bool(conn.execute("SELECT pg_is_in_recovery()").fetchone()[0])
        except psycopg.Error:
            return False

    @property
    def pid(self) -> int | None:
        """The standby's postmaster (its process tree holds the WAL receiver and backends)."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "".join(text.splitlines(True)[-lines:])

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster), as `docker compose stop` would."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                kill_process_group(self.process)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
