"""One production-like stack for the browser journeys, shared by the whole tests/browser package.

gunicorn serves portal.wsgi under the production settings, over TLS with a certificate made for
the run, from the files collectstatic wrote; a Celery worker (production settings too) sends the
emails to the fake Brevo; Debian's chromium, driven by Playwright, visits https://localhost/ and
https://covid19.localhost/ as a person would: its host resolver sends port 443 of those names to
the server's loopback port, so the URLs, the Host header and the links in emails are the ones
production uses (PORTAL_PUBLIC_SCHEME is https there, and links carry no port).

Why TLS and not plain HTTP: production only trusts a token-less form POST when the request is
secure (portal/csrf.py), marks cookies Secure and links to https. Serving real TLS keeps every
one of those rules on instead of faking a proxy header.

The journeys change what they touch (accounts, applications, pages, domains): they run on a
copy of the test database (CREATE DATABASE ... TEMPLATE, demo portals included) that is dropped
afterwards, so the rest of the suite never sees their rows.
"""

import os
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from playwright.sync_api import sync_playwright

from portal.testing.servers import Gunicorn
from tests import factories as make
from tests.email_support import email_worker, running_fake_brevo
from tests.workers import RedisServer, use_broker, worker_env

from .support import AXE, SCREENSHOTS, Browser

CHROMIUM = "/usr/bin/chromium"
HOSTS = ("localhost", "covid19.localhost", "renfort.localhost")  # the last: a domain switch


def _maintenance(*statements: str) -> None:
    """SQL that cannot run inside the test database (creating or dropping one)."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname="postgres",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or None,
        autocommit=True,
    ) as admin:
        for statement in statements:
            admin.execute(statement)


@pytest.fixture(scope="package")
def journeys_db(django_db_setup, django_db_blocker):
    """A copy of the migrated test database with the demo portals; this process's connection,
    the server and the worker all use it, and it is dropped at the end."""
    source = connection.settings_dict["NAME"]
    copy = f"{source}_browser"
    connection.close()  # a template must have no other session
    for attempt in range(20):
        try:
            _maintenance(
                f'DROP DATABASE IF EXISTS "{copy}"', f'CREATE DATABASE "{copy}" TEMPLATE "{source}"'
            )
            break
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)
    connection.settings_dict["NAME"] = copy
    with django_db_blocker.unblock():
        make.demo_portals()  # a transactional test run before may have flushed the source
        yield copy
        connection.close()
    connection.settings_dict["NAME"] = source
    _maintenance(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


@pytest.fixture(scope="package")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", key, "-out", cert, "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


class TlsGunicorn(Gunicorn):
    """gunicorn terminating TLS itself, as the proxy does in production."""

    def __init__(self, env: dict, certificate):
        cert, key = certificate
        self.cert = cert
        args = ["-w", 3, "--access-logfile", "/dev/null", "--certfile", cert, "--keyfile", key]
        super().__init__(env, args)
        self.url = f"https://127.0.0.1:{self.port}"

    def get(self, path: str, **kwargs):
        headers = {"Host": "localhost"}
        return requests.get(self.url + path, headers=headers, timeout=5, verify=self.cert, **kwargs)


@pytest.fixture(scope="package")
def production_env(journeys_db, production_static):
    """What the server and the worker run with: the production settings, the journeys' database
    (worker_env reads it from the connection), the test Redis for the cache and sessions."""
    return dict(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        STATIC_ROOT=production_static,
        SECRET_KEY="browser-journeys",
        ALLOW_SHARED_CACHE_REDIS="true",
        PORTAL_DOMAINS=".localhost",  # the domains an operator allows portals to move to
        SESSION_REDIS_URL=settings.REDIS_URL,
        LOG_LEVEL="WARNING",
        GUNICORN_ACCESS_LOG="",
    )


# The fake Brevo: every email a journey needs is read from its record.
mailbox = pytest.fixture(running_fake_brevo, scope="package", name="mailbox")


@pytest.fixture(scope="package")
def journeys_broker():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def producer(journeys_broker):
    """Applications a test makes with the services (not through a page) queue their emails on
    the journeys' broker too, for the same worker."""
    use_broker(journeys_broker.url)
    yield
    use_broker(settings.CELERY_BROKER_URL)


@pytest.fixture(scope="package")
def email_sender(production_env, mailbox, journeys_broker):
    with email_worker(mailbox, journeys_broker, **production_env) as running:
        yield running


@pytest.fixture(scope="package")
def server(production_env, journeys_broker, certificate, email_sender, producer):
    env = worker_env(**production_env, CELERY_BROKER_URL=journeys_broker.url)
    with TlsGunicorn(env, certificate) as running:
        yield running


@pytest.fixture(scope="package")
def chromium(server):
    for needed, how in ((CHROMIUM, "apt-get install chromium"), (AXE, "make test-browser")):
        if not Path(needed).exists():
            pytest.fail(f"{needed} is missing: {how} (.ci/run installs it)")
    rules = ",".join(f"MAP {host}:443 127.0.0.1:{server.port}" for host in HOSTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls between two
    # browser steps are still plain synchronous code (Playwright's documented Django setting).
    # Set after the server and the worker started: they inherit this process's environment.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[f"--host-resolver-rules={rules}", "--no-sandbox", "--disable-gpu"],
        )
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def browser(chromium, request):
    """A fresh browser profile per test (its own cookies), phone-sized unless a test says
    otherwise; every page it opens is watched (console, failed requests) and photographed."""
    opened = Browser(chromium, request.node.name)
    yield opened
    opened.close(failed=getattr(request.node, "failed", False))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed = True
    return report
