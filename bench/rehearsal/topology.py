"""The production topology on one machine, from the shipped files.

docker-compose.yml's services become processes here: nginx runs deploy/nginx.conf itself, with
only what a container would have supplied rewritten (ports, paths, the upstream `web` that
`docker compose up --scale web=2` resolves to two addresses, and the CDN's address range:
loopback, where the load generator stands in for the CDN); gunicorn, Celery, beat and the
signup writer run the Procfile's commands under portal.settings.production; each Redis runs
compose's command line; PostgreSQL is a private cluster (it is restarted during the run), and
its streaming replica is cloned and run by deploy/postgres-replica.sh, as compose's
`postgres-replica` service (portal.testing.servers.PostgresReplica).
"""

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis
import requests

from portal.testing.servers import PG_BIN

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET_KEY = "rehearsal-secret-key-" + "x" * 48


class Proc:
    """One service: a command in its own process group, its output in <logs>/<name>.log."""

    def __init__(self, name: str, command: list[str], env: dict, logs: Path, cwd=ROOT):
        self.name, self.command, self.env, self.cwd = name, command, env, cwd
        self.log_path = logs / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Proc":
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def alive(self) -> bool:
        return self.pid is not None

    def kill(self) -> None:
        """SIGKILL the whole group, as a container killed by the kernel."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "".join(text.splitlines(True)[-lines:])


def wait_for(what: str, check, timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        if proc is not None and proc.process is not None and proc.process.poll() is not None:
            raise SystemExit(f"rehearsal: {what} exited:\n{proc.tail()}")
        time.sleep(0.2)
    raise SystemExit(
        f"rehearsal: {what} not ready in {timeout} s" + (f":\n{proc.tail()}" if proc else "")
    )


# --- PostgreSQL: a private cluster, kept between runs (the data set is reused) -----------------


PRIMARY_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
    "-c shared_buffers=1GB -c work_mem=16MB -c maintenance_work_mem=512MB -c max_wal_size=4GB"
)
# The replica's postgres settings: a hot standby refuses to start with fewer max_connections
# than its primary, and it serves the same reads (search, mission pages) with the same memory.
REPLICA_SETTINGS = ("fsync=off", "max_connections=200", "shared_buffers=1GB", "work_mem=16MB")


class Postgres:
    def __init__(self, directory: Path, port: int):
        self.dir = directory
        self.data = directory / "data"
        self.port = port
        self.log = directory / "postgres.log"

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:  # initdb and postgres refuse root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> "Postgres":
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        if (self.data / "postmaster.pid").exists():  # a run that was killed left it running
            with contextlib.suppress(subprocess.CalledProcessError):
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} {PRIMARY_OPTIONS}"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "120",
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def ensure_database(self, name: str) -> bool:
        """True when it had to be created."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return False
            conn.execute(f'CREATE DATABASE "{name}"')
            return True


# --- Redis: compose's two command lines ---------------------------------------------------------


def compose_command(service: str) -> list[str]:
    """The `command:` of a docker-compose.yml service, split as the shell would."""
    text = (ROOT / "docker-compose.yml").read_text()
    block = text.split(f"\n  {service}:\n", 1)[1]
    line = next(x for x in block.splitlines() if x.strip().startswith("command:"))
    return shlex.split(line.split("command:", 1)[1].strip())


def redis_proc(service: str, port: int, directory: Path, logs: Path) -> Proc:
    directory.mkdir(parents=True, exist_ok=True)
    command = compose_command(service) + [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory),
    ]
    return Proc(service, command, dict(os.environ), logs)


def redis_ready(port: int) -> bool:
    return redis.Redis(port=port, socket_timeout=1).ping()


# --- nginx: deploy/nginx.conf with a container's surroundings rewritten ------------------------


def nginx_config(port: int, upstreams: list[int], directory: Path) -> str:
    """deploy/nginx.conf for a non-root process on loopback. What changes, and why:
    the `user` line (no such user outside the image), daemon off (run.py supervises it), the
    pid and temporary paths, the listen port, the access log (a file the report reads), the
    cache and static paths (the image's /app and /var/cache), `server web:8000` (compose's
    scaled service: one line per instance) and the CDN block: loopback is the CDN here."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = re.sub(r"(?m)^user .*;\n", "", conf)
    temp = directory / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    head = f"daemon off;\npid {directory}/nginx.pid;\n"
    conf = head + conf
    paths = "".join(
        f"    {name}_temp_path {temp}/{name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = conf.replace("http {\n", "http {\n" + paths, 1)
    conf = conf.replace("access_log /dev/stdout main;", f"access_log {directory}/access.log main;")
    conf = conf.replace("/var/cache/nginx/pages", str(directory / "cache"))
    conf = conf.replace("/app/staticfiles/", f"{ROOT}/staticfiles/")
    conf = conf.replace("/app/media/", f"{ROOT}/media/")
    conf = conf.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in upstreams)
    conf = re.sub(r"        server web:8000;\n", servers, conf)
    # The CDN block, uncommented with the load generator's address as the CDN's range.
    conf = re.sub(
        r"# set_real_ip_from 203\.0\.113\.0/24;.*\n", "set_real_ip_from 127.0.0.1;\n", conf
    )
    conf = re.sub(r"    # set_real_ip_from 2001:db8::/32;.*\n", "", conf)
    conf = conf.replace("# real_ip_header X-Forwarded-For;", "real_ip_header X-Forwarded-For;")
    conf = conf.replace("# real_ip_recursive on;", "real_ip_recursive on;")
    # ... and the CDN's word on the scheme (TLS ends at the edge) is believed from there.
    conf = re.sub(r"        # 203\.0\.113\.0/24 1;.*\n", "        127.0.0.1 1;\n", conf)
    conf = re.sub(r"        # 2001:db8::/32  1;.*\n", "", conf)
    expected = ("server 127.0.0.1:", "set_real_ip_from 127.0.0.1;", "        127.0.0.1 1;")
    if not all(line in conf for line in expected):
        raise SystemExit("rehearsal: deploy/nginx.conf changed shape; update nginx_config()")
    return conf


def nginx_proc(port: int, upstreams: list[int], directory: Path, logs: Path) -> Proc:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "nginx.conf"
    path.write_text(nginx_config(port, upstreams, directory))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    test = subprocess.run(
        [nginx, "-t", "-c", str(path), "-p", str(directory)], capture_output=True, text=True
    )
    if test.returncode:
        raise SystemExit(f"rehearsal: nginx -t failed:\n{test.stderr}")
    return Proc("nginx", [nginx, "-c", str(path), "-p", str(directory)], dict(os.environ), logs)


# --- the application's processes ----------------------------------------------------------------


def app_env(database_url: str, ports: dict, **extra) -> dict:
    """docker-compose.yml's x-app-env, with this machine's addresses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "CELERY_"))}
    for name in ("SESSION_REDIS_URL", "REDIS_URL", "BREVO_API_KEY", "DATABASE_URL"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:{ports['redis']}/0",
        SESSION_REDIS_URL=f"redis://127.0.0.1:{ports['redis_sessions']}/0",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{ports['redis_sessions']}/1",
        SIGNUP_STREAM="true",
        BREVO_API_KEY="rehearsal-key",
        BREVO_API_URL=f"http://127.0.0.1:{ports['brevo']}/v3/",
        CLOUDFLARE_ZONE_ID="rehearsal-zone",
        CLOUDFLARE_API_TOKEN="rehearsal-token",
        CLOUDFLARE_API_URL=f"http://127.0.0.1:{ports['cloudflare']}/client/v4/",
        DEFAULT_FROM_EMAIL="no-reply@rehearsal.example.org",
        ALLOWED_HOSTS="*",
        # The CDN (here the load generator) and nginx each append an X-Forwarded-For entry.
        TRUSTED_PROXY_COUNT="2",
        GUNICORN_ACCESS_LOG="",  # nginx logs every request
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def procfile_command(name: str) -> list[str]:
    """A Procfile line, run with this interpreter's tools."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith(f"{name}:"))
    words = shlex.split(line.split(":", 1)[1].strip())
    words = [os.path.expandvars(w) if "$" in w else w for w in words]
    words = [w.replace("${CELERY_CONCURRENCY:-2}", "2") for w in words]
    if words[0] in ("gunicorn", "celery"):
        return [sys.executable, "-m", *words]
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    return words


def http_ready(url: str, host: str = "localhost") -> bool:
    """200 for a request as nginx forwards one that reached the CDN over HTTPS."""
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    return requests.get(url, headers=headers, timeout=2, allow_redirects=False).status_code == 200
