import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import setup_databases, teardown_databases
from django.utils import translation

from emails import dispatch
from home import figures
from portal.demo import load_demo
from portal.testing.servers import ROOT
from tenants import hosts, models
from tests import factories as make
from tests.email_support import email_worker, running_fake_brevo
from tests.factories import client_for
from tests.fake_cloudflare import FakeCloudflare
from tests.otp_support import force_login_verified
from tests.services import HOW_TO_START, check_services
from tests.workers import CeleryWorker, RedisServer, purge_broker, use_broker, worker_env


def pytest_sessionstart(session):
    problems = check_services(settings)
    if problems:
        pytest.exit("\n".join(["Backing services missing:", *problems, HOW_TO_START]), 2)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb):
    """Migrate once, then load the two demo portals every test can rely on.

    pytest-django sets up only the databases its collected tests ask for by marker or fixture;
    the browser journeys reach theirs through a copy (tests/browser/conftest.py), so a run of
    them alone would otherwise go on in the developer's own database."""
    for alias in settings.CACHES:  # a previous run's cache may name rows that are gone
        caches[alias].clear()
    ours = None
    with django_db_blocker.unblock():
        if connection.settings_dict["NAME"] != connection.settings_dict["TEST"]["NAME"]:
            ours = setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, keepdb=django_db_keepdb
            )
        load_demo()
    yield
    if ours is not None and not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(ours, verbosity=0)


@pytest.fixture(autouse=True)
def clean_caches():
    """Each test starts with empty Redis caches and no per-process host map."""
    for alias in settings.CACHES:
        caches[alias].clear()
    figures._last_known.clear()
    dispatch._broker["down_until"] = 0.0
    hosts._local.update(map=None, expires=0.0)
    models._switches.clear()
    yield
    hosts._local.update(map=None, expires=0.0)


@pytest.fixture(autouse=True)
def staff_sessions_verified(monkeypatch):
    """Staff signed in with force_login (admin_client too) carry a verified TOTP device, as
    the admin requires (tests/otp_support.py); the requirement itself stays on."""
    monkeypatch.setattr(Client, "force_login", force_login_verified)


@pytest.fixture
def client():
    """Django's test client, its requests addressed to the national demo portal (a request
    may name another host with HTTP_HOST)."""
    return client_for()


@pytest.fixture
def demo(db):
    """The demo portals; reloaded if a transactional test flushed them."""
    return make.demo_portals()


class StaticBuild:
    """collectstatic under the production settings (manifest storage, compressed copies): a
    server started with them cannot render a page without the manifest.

    A minute or two of compression on these machines, so the result is kept in the temporary
    directory under a digest of its inputs (every static file the finders list, the settings,
    the package versions): the browser session and later runs reuse it until one changes. A
    run that needs it and lacks it starts it as soon as the tests are collected, at a lower
    priority, so the compression overlaps the tests that come before."""

    def __init__(self):
        self.root = Path(tempfile.gettempdir()) / f"portal-static-{static_inputs_digest()}"
        self.process: subprocess.Popen | None = None

    def built(self) -> bool:
        return (self.root / "staticfiles.json").exists()

    def start(self) -> None:
        if self.built() or self.process is not None:
            return
        self.building = Path(tempfile.mkdtemp(prefix="portal-static-building-"))
        self.log = self.building.with_suffix(".log")
        env = worker_env(
            DJANGO_SETTINGS_MODULE="portal.settings.production",
            STATIC_ROOT=self.building,
            SECRET_KEY="collectstatic-only",
            ALLOW_SHARED_CACHE_REDIS="true",
        )
        command = ["nice", "-n", "10", sys.executable, "manage.py", "collectstatic", "--noinput"]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [*command, "-v0"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait(self) -> Path:
        if self.built():
            return self.root
        self.start()
        if self.process.wait():
            raise RuntimeError(f"collectstatic failed: {self.log.read_text()[-3000:]}")
        try:
            self.building.rename(self.root)  # whole or not at all: no run sees a half-built copy
        except OSError:  # another run built the same copy meanwhile
            shutil.rmtree(self.building, ignore_errors=True)
        self.log.unlink(missing_ok=True)
        for old in self.root.parent.glob("portal-static-*"):  # 100 MB each: drop day-old ones
            if old.is_dir() and time.time() - old.stat().st_mtime > 86400:
                shutil.rmtree(old, ignore_errors=True)
        return self.root

    def abandon(self) -> None:
        """The run ends (or is interrupted) before the copy is used: stop, leave nothing."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            shutil.rmtree(self.building, ignore_errors=True)
            self.log.unlink(missing_ok=True)


_static: list[StaticBuild] = []


def pytest_collection_finish(session):
    if any("production_static" in getattr(item, "fixturenames", ()) for item in session.items):
        _static.append(StaticBuild())
        _static[0].start()


def pytest_sessionfinish(session):
    for build in _static:
        build.abandon()


@pytest.fixture(scope="session")
def production_static():
    """The production collectstatic's output directory (StaticBuild)."""
    return (_static or [StaticBuild()])[0].wait()


def static_inputs_digest() -> str:
    """What collectstatic's output depends on: the static files (names and contents), the
    settings modules and the installed packages (the storage's code)."""
    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda found: found[0]):
            with storage.open(path) as source:
                digest.update(path.encode() + b"\0" + hashlib.sha256(source.read()).digest())
    for module in sorted((ROOT / "portal" / "settings").glob("*.py")):
        digest.update(module.read_bytes())
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    digest.update("\n".join(packages).encode())
    return digest.hexdigest()[:20]


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker):
    """A real worker consuming the Redis broker, on the test database, for one module.

    Not for the session: left running, it would take the outbox kicks of later transactional
    tests and write to tables while their teardown truncates them (a deadlock, seen in CI)."""
    purge_broker()
    worker = CeleryWorker(concurrency=2).start()
    yield worker
    worker.stop()


# --- Email delivery: a fake Brevo, a broker of the module's own, a worker talking to both ----


fake = pytest.fixture(running_fake_brevo, scope="module", name="fake")


@pytest.fixture(scope="module")
def broker():
    """A broker of our own, so that a test can stop it without touching the cache's Redis."""
    server = RedisServer().start()
    use_broker(server.url)
    yield server
    use_broker(settings.CELERY_BROKER_URL)
    server.stop()


@pytest.fixture(scope="module")
def worker(django_db_setup, fake, broker):
    with email_worker(fake, broker) as running:
        yield running


@pytest.fixture
def reset_fake(fake):
    fake.reset()
    return fake


@pytest.fixture
def cloudflare(settings):
    """A fake Cloudflare API the CDN purge talks to (token "secret-token", zone "zone42")."""
    with FakeCloudflare() as fake:
        settings.WAGTAILFRONTENDCACHE = {
            "cloudflare": {
                "BACKEND": "portal.purge.CloudflareBackend",
                "ZONEID": "zone42",
                "BEARER_TOKEN": "secret-token",
                "API_URL": fake.url,
            }
        }
        yield fake


@pytest.fixture
def french():
    """Pages in French: `get_absolute_url()` answers in the active language, which a previous
    request may have left in English."""
    with translation.override("fr"):
        yield


@pytest.fixture
def org(demo):
    """A validated organisation of the national portal."""
    return make.organisation(demo["localhost"], name="Les Amis du Quartier")


@pytest.fixture
def manager(org):
    """Its manager, who can also sign in with a password."""
    return make.manager(org, first_name="Dominique", password="a long password 123")
