"""Consistency checks for the deployment files (no database, no network, no docker).

They keep docker-compose.yml, Procfile, Dockerfile, gunicorn.conf.py and deploy/nginx.conf
honest against the code: every command must point at something that exists, every
environment variable set for the app must be read somewhere, and the proxy/IP and redis
eviction invariants must hold.
"""

import ast
import grp
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import django
import pytest
import yaml
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROCFILE = ROOT / "Procfile"
DOCKERFILE = ROOT / "Dockerfile"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SENTINEL_COMPOSE_FILE = ROOT / "deploy" / "compose.sentinel.yml"
SETTINGS_DIR = ROOT / "portal" / "settings"

EXPECTED_SERVICES = {
    "nginx",
    "migrate",
    "web",
    "worker",
    "beat",
    "signups",
    "postgres",
    "postgres-replica",
    "redis",
    "redis-sessions",
}
APP_SERVICES = ("migrate", "web", "worker", "beat", "signups")

# Environment variables that are consumed by something other than portal/settings/*.py,
# mapped to the files that must read them.
OTHER_READERS = {
    "DJANGO_SETTINGS_MODULE": ("manage.py", "portal/wsgi.py"),
    "PORT": ("gunicorn.conf.py",),
    "WEB_CONCURRENCY": ("gunicorn.conf.py",),
    "FORWARDED_ALLOW_IPS": ("gunicorn.conf.py",),
    "GUNICORN_LOG_LEVEL": ("gunicorn.conf.py",),
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def sentinel_compose():
    return yaml.safe_load(SENTINEL_COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def procfile():
    entries = {}
    for line in PROCFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        entries[name.strip()] = command.strip()
    return entries


def command_lines(command) -> list[list[str]]:
    """Split a compose/Procfile command into the individual commands it runs (as tokens).

    Handles the string form, the exec (list) form and `sh -c "a && b"` chains.
    """
    if isinstance(command, list):
        if command[:2] == ["sh", "-c"] and len(command) == 3:
            command = command[2]
        else:
            return [command]
    return [shlex.split(part) for part in command.split("&&")]


def app_env(compose) -> dict:
    env = dict(compose["x-app-env"])
    for name in APP_SERVICES:
        env.update(compose["services"][name].get("environment") or {})
    return env


def module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defines_name(path: Path, name: str) -> bool:
    """True if the module binds `name` at top level (assignment, def, class or import)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            return True
        elif isinstance(node, ast.ImportFrom | ast.Import):
            if any((alias.asname or alias.name) == name for alias in node.names):
                return True
            continue
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


def management_command_exists(name: str) -> bool:
    """Look for <app>/management/commands/<name>.py in the project or in Django itself."""
    django_dir = Path(django.__file__).resolve().parent
    pattern = f"management/commands/{name}.py"
    if any(django_dir.rglob(pattern)):
        return True
    return any(
        p for p in ROOT.rglob(pattern) if ".venv" not in p.parts and "site-packages" not in p.parts
    )


def assert_command_points_at_code(tokens: list[str]) -> None:
    program = tokens[0]
    if program == "gunicorn":
        assert "-c" in tokens, tokens
        assert (ROOT / tokens[tokens.index("-c") + 1]).is_file()
        targets = [t for t in tokens[1:] if re.fullmatch(r"[\w.]+:\w+", t)]
        assert len(targets) == 1, f"no WSGI target in {tokens}"
        module, _, attr = targets[0].partition(":")
        path = module_file(module)
        assert path is not None, f"{module} has no file"
        # Don't import it: that would load production settings.
        assert defines_name(path, attr), f"{path} does not define {attr}"
    elif program == "celery":
        assert "-A" in tokens, tokens
        module = tokens[tokens.index("-A") + 1]
        path = module_file(module)
        assert path is not None, f"celery app module {module} has no file"
        assert defines_name(path, "app"), f"{path} does not define `app`"
        assert tokens[tokens.index("-A") + 2] in {"worker", "beat"}, tokens
    elif program == "python":
        assert tokens[1] == "manage.py", tokens
        assert (ROOT / "manage.py").is_file()
        assert management_command_exists(tokens[2]), f"no management command {tokens[2]}"
    else:
        pytest.fail(f"unexpected program {program!r} in {tokens}")


def settings_text() -> str:
    files = sorted(SETTINGS_DIR.glob("*.py"))
    assert files, f"no settings modules in {SETTINGS_DIR}"
    return "\n".join(f.read_text() for f in files)


def dockerfile_cmd() -> list[str]:
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line[len("CMD ") :])
    pytest.fail("Dockerfile has no exec-form CMD")


def nginx_text() -> str:
    return NGINX_CONF.read_text()


def active_nginx_lines() -> str:
    """nginx.conf without comments."""
    return "\n".join(line.split("#", 1)[0] for line in nginx_text().splitlines())


# --------------------------------------------------------------------------- compose


def test_compose_services(compose):
    assert set(compose["services"]) == EXPECTED_SERVICES


def test_app_services_share_one_build_and_environment(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name
        assert services[name]["environment"] == compose["x-app-env"], name


def test_startup_order(compose):
    services = compose["services"]
    assert services["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    for name in ("worker", "beat", "signups"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    migrate_deps = services["migrate"]["depends_on"]
    assert migrate_deps["postgres"] == {"condition": "service_healthy"}
    assert migrate_deps["redis"] == {"condition": "service_healthy"}
    assert services["migrate"].get("restart") == "no"
    for name in ("postgres", "redis", "redis-sessions", "web"):
        assert "healthcheck" in services[name], name


def test_web_healthcheck_probes_healthz(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "/healthz" in test[3] and "urllib" in test[3]
    compile(test[3], "web-healthcheck", "exec")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_commands_point_at_code(compose, service):
    for tokens in command_lines(compose["services"][service]["command"]):
        assert_command_points_at_code(tokens)


def test_migrate_runs_migrate(compose):
    lines = command_lines(compose["services"]["migrate"]["command"])
    assert ["python", "manage.py", "migrate", "--noinput"] in lines
    # After the migrations, existing portals get what a new one gets (tenants.portals).
    assert ["python", "manage.py", "set_up_portals"] in lines


def test_dockerfile_cmd_matches_web(compose):
    (web,) = command_lines(compose["services"]["web"]["command"])
    assert dockerfile_cmd() == web
    assert_command_points_at_code(dockerfile_cmd())


def test_settings_modules_exist(compose):
    modules = {compose["x-app-env"]["DJANGO_SETTINGS_MODULE"]}
    modules |= set(re.findall(r"DJANGO_SETTINGS_MODULE=([\w.]+)", DOCKERFILE.read_text()))
    for module in modules:
        assert module.startswith("portal.settings."), module
        assert (SETTINGS_DIR / f"{module.rsplit('.', 1)[1]}.py").is_file(), module


def test_every_app_env_var_is_read(compose):
    text = settings_text()
    for name in app_env(compose):
        if name in OTHER_READERS:
            readers = [ROOT / f for f in OTHER_READERS[name]]
            for reader in readers:
                assert name in reader.read_text(), f"{name} not read by {reader}"
            continue
        assert re.search(rf"""["']{name}["']""", text), (
            f"{name} is set in docker-compose.yml but never read in portal/settings/*.py"
        )


def test_redis_roles(compose):
    services = compose["services"]

    def flag(service, option):
        tokens = shlex.split(services[service]["command"])
        assert tokens[0] == "redis-server"
        return tokens[tokens.index(option) + 1] if option in tokens else None

    assert flag("redis", "--maxmemory-policy") == "allkeys-lru"
    assert flag("redis", "--maxmemory")
    assert flag("redis-sessions", "--maxmemory-policy") == "noeviction"
    assert flag("redis-sessions", "--appendonly") == "yes"

    env = compose["x-app-env"]
    cache, sessions, broker = (
        urlparse(env[k]) for k in ("REDIS_URL", "SESSION_REDIS_URL", "CELERY_BROKER_URL")
    )
    assert cache.hostname == "redis"
    # Sessions and the broker must never sit on the evicting instance.
    assert sessions.hostname == "redis-sessions"
    assert broker.hostname == "redis-sessions"
    assert sessions.path != broker.path, "sessions and broker share a redis db"


def mounted_scripts(service: dict) -> dict[str, Path]:
    """The service's bind-mounted files: target in the container -> file in the repository
    (paths relative to docker-compose.yml, as compose reads them in every -f file)."""
    mounts = {}
    for spec in service.get("volumes", []):
        source, target = spec.split(":")[:2]
        if source.startswith("./"):
            mounts[target] = ROOT / source
    return mounts


def test_read_replica_streams_from_the_primary(compose):
    services = compose["services"]
    primary, replica = services["postgres"], services["postgres-replica"]
    # The primary creates the replication role on its first start and keeps WAL for it.
    init = mounted_scripts(primary)["/docker-entrypoint-initdb.d/replication.sh"]
    assert "REPLICATION LOGIN" in init.read_text() and "host replication replicator" in (
        init.read_text()
    )
    assert "wal_keep_size=" in primary["command"]
    # The replica runs the clone-then-follow script, from the primary, as its password says.
    entrypoint = replica["entrypoint"]
    script = mounted_scripts(replica)[entrypoint[-1]]
    assert entrypoint[0] == "sh" and script.is_file()
    assert "pg_basebackup" in script.read_text() and " -R " in script.read_text()
    assert replica["environment"]["PRIMARY_HOST"] == "postgres"
    assert (
        replica["environment"]["REPLICATION_PASSWORD"]
        == (primary["environment"]["REPLICATION_PASSWORD"])
    )
    assert replica["image"] == primary["image"], "pg_basebackup needs the same major version"
    assert replica["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert replica["user"] == "postgres"  # the cloned files must be the server's own
    assert replica["environment"]["PGDATA"] in {
        spec.split(":")[1] for spec in replica["volumes"] if not spec.startswith("./")
    }
    assert "healthcheck" in replica


def test_web_reads_from_the_replica(compose):
    """Same database and credentials as DATABASE_URL, on the replica's host; nothing waits for
    the replica (the router reads from the primary while it is away)."""
    env = compose["x-app-env"]
    primary, replica = urlparse(env["DATABASE_URL"]), urlparse(env["DATABASE_REPLICA_URL"])
    assert replica.hostname == "postgres-replica"
    assert (replica.scheme, replica.username, replica.password, replica.path) == (
        primary.scheme,
        primary.username,
        primary.password,
        primary.path,
    )
    assert "postgres-replica" not in compose["services"]["web"]["depends_on"]


def test_sentinel_override(compose, sentinel_compose):
    services = {**compose["services"], **sentinel_compose["services"]}
    sentinel = sentinel_compose["services"]["sentinel"]
    script = mounted_scripts(sentinel)[sentinel["entrypoint"][-1]]
    monitors = re.findall(r"sentinel monitor (\S+) (\S+) (\d+) (\d+)", script.read_text())
    masters = {name: host for name, host, _port, _quorum in monitors}
    assert masters == {"cache": "redis", "sessions": "redis-sessions"}
    assert all(int(quorum) == 2 for *_, quorum in monitors)  # a majority of three sentinels
    for name in ("redis", "redis-sessions"):
        replica = shlex.split(sentinel_compose["services"][f"{name}-replica"]["command"])
        master = shlex.split(compose["services"][name]["command"])
        assert replica[1:4] == ["--replicaof", name, "6379"]
        # A replica becomes the master: it must keep its master's eviction and persistence.
        assert replica[4:] == master[1:], name
    # Every app service names the masters through the sentinels, and the settings read it all.
    text = settings_text()
    for name in APP_SERVICES:
        env = sentinel_compose["services"][name]["environment"]
        host, _, port = env["REDIS_SENTINELS"].partition(":")
        assert host in services and port == "26379"
        assert urlparse(env["REDIS_URL"]).hostname == "cache"
        for key in ("SESSION_REDIS_URL", "CELERY_BROKER_URL"):
            assert urlparse(env[key]).hostname == "sessions", key
        assert urlparse(env["SESSION_REDIS_URL"]).path != urlparse(env["CELERY_BROKER_URL"]).path
        for variable in env:
            assert re.search(rf"""["']{variable}["']""", text), variable


def test_static_and_media_volumes_line_up(compose):
    services = compose["services"]

    def mounts(service):
        result = {}
        for spec in services[service].get("volumes", []):
            source, target = spec.split(":")[:2]
            result[target] = source
        return result

    nginx, web, migrate = mounts("nginx"), mounts("web"), mounts("migrate")
    conf = active_nginx_lines()
    for target in ("/app/staticfiles", "/app/media"):
        assert nginx[target] == web[target], target
        assert f"alias {target}/;" in conf, target
    assert migrate["/app/staticfiles"] == web["/app/staticfiles"]
    assert nginx["/etc/nginx/nginx.conf"] == "./deploy/nginx.conf"


# --------------------------------------------------------------------------- Procfile


def test_procfile_matches_compose(compose, procfile):
    assert {"web", "worker", "beat", "signups", "postdeploy"} <= set(procfile)
    services = compose["services"]
    for process in ("web", "worker", "beat", "signups"):
        assert command_lines(procfile[process]) == command_lines(services[process]["command"]), (
            process
        )
    migrate = command_lines(services["migrate"]["command"])
    assert all(line in migrate for line in command_lines(procfile["postdeploy"]))
    if "release" in procfile:
        assert procfile["release"] == procfile["postdeploy"]
    for command in procfile.values():
        for tokens in command_lines(command):
            assert_command_points_at_code(tokens)


# --------------------------------------------------------------------------- gunicorn


def _gunicorn_namespace(**env) -> dict:
    script = (
        "import json, sys\n"
        "ns = {'__file__': sys.argv[1], '__name__': '__config__'}\n"
        "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), ns)\n"
        "print(json.dumps({k: v for k, v in ns.items()"
        " if not k.startswith('_') and isinstance(v, (str, int, float, bool, list))}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in OTHER_READERS}
    result = subprocess.run(
        [sys.executable, "-c", script, str(GUNICORN_CONF)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_gunicorn_conf_compiles():
    compile(GUNICORN_CONF.read_text(), str(GUNICORN_CONF), "exec")


def test_gunicorn_conf_values():
    ns = _gunicorn_namespace(PORT="9999", WEB_CONCURRENCY="3")
    assert ns["bind"] == ["0.0.0.0:9999"]
    assert ns["workers"] == 3
    assert ns["worker_class"] == "sync"
    assert ns["timeout"] == 30
    assert ns["accesslog"] == "-"
    assert ns["max_requests"] > 0 and ns["max_requests_jitter"] > 0
    assert ns["graceful_timeout"] <= ns["timeout"]

    defaults = _gunicorn_namespace()
    assert defaults["bind"] == ["0.0.0.0:8000"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert defaults["workers"] == 2 * cores + 1
    assert defaults["forwarded_allow_ips"] == "*"


def test_gunicorn_conf_only_sets_known_settings():
    known = set(Config().settings)
    ns = _gunicorn_namespace()
    unknown = {k for k in ns if k not in known}
    assert not unknown, f"not gunicorn settings (typo?): {unknown}"


def test_web_stop_grace_covers_gunicorn_graceful_timeout(compose):
    grace = compose["services"]["web"]["stop_grace_period"]
    assert grace.endswith("s")
    assert int(grace[:-1]) > _gunicorn_namespace()["graceful_timeout"]


# --------------------------------------------------------------------------- nginx


def test_nginx_client_ip_contract(compose):
    conf = active_nginx_lines()
    assert re.search(r"limit_req_zone\s+\$binary_remote_addr\s+zone=signup:", conf)
    assert re.search(r"limit_req_status\s+429;", conf)
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;", conf)
    assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\$forwarded_proto;", conf)
    assert re.search(r"server\s+web:8000", conf)
    signup = re.search(
        r"location ~ \^/\(api/v1/signup\|\(fr\|en\)/inscription/\)\s*\{([^}]*)\}", conf
    )
    assert signup and "limit_req zone=signup" in signup.group(1)
    healthz = re.search(r"location = /healthz\s*\{([^}]*)\}", conf)
    assert healthz and "limit_req" not in healthz.group(1)

    # nginx appends one hop; a real_ip setup means a CDN hop that appends too.
    expected = 2 if "set_real_ip_from" in conf else 1
    assert compose["x-app-env"]["TRUSTED_PROXY_COUNT"] == str(expected)


def test_nginx_static_is_immutable():
    block = re.search(r"location \^~ /static/\s*\{([^}]*)\}", active_nginx_lines())
    assert block
    assert "public, max-age=31536000, immutable" in block.group(1)


def test_nginx_config_syntax(tmp_path):
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx binary not installed")
    text = re.sub(r"\bweb:8000\b", "127.0.0.1:8000", nginx_text())
    user = re.search(r"^user\s+(\w+);", text, re.M)
    if user:
        try:
            pwd.getpwnam(user.group(1))
        except KeyError:  # the official image has an `nginx` user; this machine may not
            me = pwd.getpwuid(os.getuid()).pw_name
            text = text.replace(user.group(0), f"user {me} {grp.getgrgid(os.getgid()).gr_name};")
    if not Path("/etc/nginx/mime.types").is_file():
        text = text.replace("include /etc/nginx/mime.types;", "")
    # The official image has /var/cache/nginx; here the micro-cache lives in the temp dir.
    text = text.replace("/var/cache/nginx/pages", str(tmp_path / "pages"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-g", f"pid {tmp_path}/nginx.pid;"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0 and "Permission denied" in result.stderr:
        pytest.skip(f"nginx -t needs privileges here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr


def test_signup_writers_run_two_and_only_beat_is_single(compose):
    """Two consumers of the signup stream (one alone writes ~7x the accept rate on the bench
    box); nothing that must run once (beat) is replicated."""
    services = compose["services"]
    assert services["signups"]["deploy"]["replicas"] == 2
    assert "deploy" not in services["beat"]
    assert all("container_name" not in s for s in services.values())  # replicas need none
