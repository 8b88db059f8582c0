"""A Redis outage costs no page and no signup (production settings, gunicorn, real Redis).

The server under test gets three Redis servers of its own (cache, sessions, broker), started
by the test on their own ports, so stopping them never touches the suite's Redis. Phase one
stops the cache and the broker: every public page of both portals, signup, search, a mission
and the partner API still answer, and what is written is stored. Phase two stops the sessions
Redis too: anonymous pages are unaffected, a signed-in page and the admin answer a 503 with
Retry-After. Then all three come back and caching resumes within a second.
"""

import json
import time
import uuid

import pytest
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django_redis.cache import RedisCache
from wagtail.models import Page, Site

from accounts.models import User
from missions.models import Application, Mission
from tests import factories as make
from tests.workers import RedisServer, WebServer

HOSTS = ("localhost", "covid19.localhost")


def public_paths() -> dict[str, list[str]]:
    """Every live, public page of every portal, as paths per hostname (both languages)."""
    sites = {site.pk: site.hostname for site in Site.objects.all()}
    paths: dict[str, list[str]] = {host: [] for host in sites.values()}
    for page in Page.objects.live().public().filter(depth__gt=1).specific():
        parts = page.get_url_parts()
        if parts and parts[0] in sites:
            paths[sites[parts[0]]].append(parts[2])
    return paths


def session_for(server: RedisServer, user: User) -> str:
    """A signed-in session written straight into the sessions Redis, as a login would."""
    store = RedisCache(server.url, {"KEY_PREFIX": "portal", "OPTIONS": {}})
    key = uuid.uuid4().hex
    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }
    store.set(f"django.contrib.sessions.cache{key}", data, 3600)
    return key


class Client:
    """requests against the server, with the Host header and cookies set by hand (production
    cookies are Secure, and this is plain HTTP on loopback)."""

    def __init__(self, url: str):
        self.url = url
        self.answers: list[tuple[str, str, int]] = []

    def call(self, method, host, path, *, cookies=None, **kwargs) -> requests.Response:
        headers = {"Host": host, **kwargs.pop("headers", {})}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        response = requests.request(
            method,
            f"{self.url}{path}",
            headers=headers,
            allow_redirects=False,
            timeout=10,
            **kwargs,
        )
        self.answers.append((method, f"{host}{path}", response.status_code))
        return response

    def get(self, host, path, **kwargs):
        return self.call("GET", host, path, **kwargs)

    def post_json(self, host, path, body, *, cookies=None):
        csrf = self.get(host, "/api/v1/csrf").json()["csrfToken"]
        return self.call(
            "POST",
            host,
            path,
            data=json.dumps(body),
            cookies={"csrftoken": csrf, **(cookies or {})},
            headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
        )

    def server_errors(self):
        """Errors other than the 503s the test asks for (each of those is asserted)."""
        return [answer for answer in self.answers if answer[2] >= 500 and answer[2] != 503]


@pytest.fixture
def redises(tmp_path):
    servers = {
        "cache": RedisServer(),
        "sessions": RedisServer(data_dir=tmp_path),  # production keeps sessions on disk
        "broker": RedisServer(),
    }
    for server in servers.values():
        server.start()
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def web(redises, demo, production_static):
    server = WebServer(
        workers=2,
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        STATIC_ROOT=production_static,
        SECRET_KEY=settings.SECRET_KEY,  # the session hash written by the test must match
        REDIS_URL=redises["cache"].url,
        SESSION_REDIS_URL=redises["sessions"].url,
        CELERY_BROKER_URL=redises["broker"].url,
        SECURE_SSL_REDIRECT="false",
        GUNICORN_ACCESS_LOG="",
        LOG_LEVEL="WARNING",
    )
    with server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_redis_outage_costs_no_page_and_no_signup(web, redises, demo):
    client = Client(web.url)
    paths = public_paths()
    assert all(len(paths[host]) >= 2 for host in HOSTS), paths
    volunteer = make.volunteer(
        f"outage-{uuid.uuid4().hex[:8]}@example.org", "x", signup_site=demo["localhost"]
    )
    session = {settings.SESSION_COOKIE_NAME: session_for(redises["sessions"], volunteer)}
    mission = Mission.objects.public(demo["localhost"]).order_by("pk").first()
    assert mission is not None

    # Warm: the home pages count their figures and are cached.
    home = client.get("localhost", "/fr/")
    assert home.status_code == 200
    assert client.get("localhost", "/fr/").headers.get("X-Cache") == "HIT"
    assert client.get("localhost", "/fr/espace/", cookies=session).status_code == 200

    # --- Phase one: the cache Redis and the broker are down -----------------------------------
    redises["cache"].stop()
    redises["broker"].stop()
    time.sleep(2.1)  # past the page cache's per-process memory tier
    for host in HOSTS:
        for path in paths[host]:
            assert client.get(host, path).status_code == 200, (host, path)
        assert client.get(host, "/fr/inscription/").status_code == 200
        assert client.get(host, "/fr/search/?query=aide").status_code == 200
        assert client.get(host, "/fr/missions/?q=aide").status_code == 200
        assert client.get(host, "/api/v1/missions?q=aide").status_code == 200
    assert client.get("localhost", f"/api/v1/missions/{mission.pk}").status_code == 200
    # The home page keeps its figures (the last known ones), it does not count again.
    assert "fr-tile__desc" in client.get("localhost", "/fr/").text

    email = f"signup-{uuid.uuid4().hex[:8]}@example.org"
    signup = client.post_json(
        "localhost",
        "/api/v1/signup",
        {
            "email": email,
            "first_name": "Ana",
            "last_name": "Lopez",
            "postal_code": "75011",
            "birth_date": "1990-01-02",
            "consent": True,
        },
    )
    assert signup.status_code == 202, signup.text
    assert User.objects.filter(email=email).exists()

    applied = client.post_json(
        "localhost",
        f"/api/v1/missions/{mission.pk}/applications",
        {"message": "Présente"},
        cookies=session,
    )
    assert applied.status_code == 201, applied.text
    assert Application.objects.filter(mission=mission, volunteer=volunteer).exists()

    health = client.get("localhost", "/healthz")
    assert health.status_code == 503
    assert {k: v == "ok" for k, v in health.json().items()} == {
        "database": True,
        "cache": False,
        "sessions": True,
        "broker": False,
    }

    # --- Phase two: the sessions Redis is down too -------------------------------------------
    redises["sessions"].stop()
    for host in HOSTS:
        assert client.get(host, paths[host][0]).status_code == 200
        assert client.get(host, "/fr/inscription/").status_code == 200
    for path in ("/fr/espace/", "/admin/"):
        refused = client.get("localhost", path, cookies=session)
        assert refused.status_code == 503, (path, refused.status_code)
        assert int(refused.headers["Retry-After"]) > 0
        assert "Service momentanément indisponible" in refused.text
        assert settings.SESSION_COOKIE_NAME not in refused.headers.get("Set-Cookie", "")
    assert client.get("localhost", "/healthz").json()["sessions"] != "ok"
    assert not client.server_errors(), client.server_errors()

    # --- Back: caching resumes within a second; the volunteer is still signed in -------------
    for server in redises.values():
        server.start()
    back = time.monotonic()
    cache_redis = redises["cache"].client()

    def written(pattern):  # the cache Redis restarted empty: any key was written since
        return bool(cache_redis.keys(pattern))

    while time.monotonic() - back < 1.0:
        client.get("covid19.localhost", "/fr/")  # through the page cache
        # A session cookie bypasses the page cache: Django renders, and caches its fragments.
        client.get("covid19.localhost", "/fr/", cookies={settings.SESSION_COOKIE_NAME: "none"})
        if written("pagecache:e:covid19.localhost:*") and written("portal:*:menu:*"):
            break
        time.sleep(0.05)
    resumed = time.monotonic() - back
    assert written("pagecache:e:covid19.localhost:*"), "the page cache stores nothing in Redis"
    assert written("portal:*:menu:*"), "Django's cache stores nothing in Redis"
    assert resumed < 1.0, resumed
    assert client.get("localhost", "/fr/espace/", cookies=session).status_code == 200
    assert client.get("localhost", "/healthz").status_code == 200
    assert not client.server_errors(), client.server_errors()
