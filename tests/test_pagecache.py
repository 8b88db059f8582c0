"""The page cache in front of Django: hits touch no SQL, nothing personal is ever stored."""

import inspect
import re
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from home.models import HomePage
from missions.models import Mission
from portal.pagecache import PageCache, storable
from portal.redis_pool import CircuitBreakerConnectionPool
from portal.wsgi import application
from search import missions, views
from tenants.models import PortalSettings
from tests import factories as make
from tests.workers import HangUpServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_tiers():
    application.memory.clear()
    application.versions.clear()


def call(path, host="localhost", method="GET", cookies="", app=application):
    environ = RequestFactory().generic(method, path, HTTP_HOST=host, HTTP_COOKIE=cookies).environ
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    # Like Django's test client: keep the test's database connection open across the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return captured["status"], captured["headers"], body


def test_second_anonymous_visit_is_a_hit_without_sql(demo):
    status, headers, first = call("/fr/")
    assert status.startswith("200") and "X-Cache" not in headers
    with CaptureQueriesContext(connection) as queries:
        status, headers, again = call("/fr/")
    assert headers["X-Cache"] == "HIT"
    assert len(queries) == 0
    assert again == first
    assert headers["Cache-Control"].startswith("public")


def test_hit_survives_the_memory_tier_from_redis(demo):
    call("/fr/")
    application.memory.clear()  # another process: only Redis has it
    with CaptureQueriesContext(connection) as queries:
        _, headers, _ = call("/fr/")
    assert headers["X-Cache"] == "HIT" and len(queries) == 0


def test_key_includes_host_path_and_the_parameters_pages_read(demo):
    call("/fr/")
    assert "X-Cache" not in call("/fr/", host="covid19.localhost")[1]
    assert "X-Cache" not in call("/en/")[1]
    assert "X-Cache" not in call("/fr/search/?query=aide")[1]  # read by the page: its own key
    assert call("/fr/search/?query=aide")[1]["X-Cache"] == "HIT"
    assert "X-Cache" not in call("/fr/search/?query=autre")[1]


def test_random_and_tracking_parameters_share_the_plain_pages_entry(demo):
    """`?r=<random>` is answered from the plain page and stores nothing (no Redis filling, no
    render per request); tracking parameters and their order never split the cache."""
    store = caches["default"].client.get_client()
    call("/fr/")
    before = len(store.keys("pagecache:e:*"))
    for n in range(5):
        assert call(f"/fr/?r={n}")[1]["X-Cache"] == "HIT"
        assert call(f"/fr/?utm_source=tv&fbclid={n}")[1]["X-Cache"] == "HIT"
    assert len(store.keys("pagecache:e:*")) == before
    call("/fr/search/?query=aide&page=1")
    assert call("/fr/search/?page=1&query=aide&utm_medium=x")[1]["X-Cache"] == "HIT"


def test_an_unknown_parameter_never_stores_its_answer_under_the_plain_url(demo):
    call("/fr/search/?query=aide&unknown=1")  # a miss: rendered, but not stored
    assert "X-Cache" not in call("/fr/search/?query=aide")[1]


def test_a_trailing_dot_host_shares_the_entries_invalidation_reaches(demo):
    call("/fr/")
    assert call("/fr/", host="localhost.")[1]["X-Cache"] == "HIT"
    assert call("/fr/", host="LOCALHOST.:80")[1]["X-Cache"] == "HIT"


def test_the_parameters_of_the_search_pages_are_all_known_to_the_page_cache():
    """The search pages read their parameters in search.missions.SearchForm and search.views:
    a parameter added there but not to PAGE_CACHE_QUERY_PARAMS would be served the plain page."""
    read = set(re.findall(r"""get\(\s*["'](\w+)["']""", inspect.getsource(views)))
    read |= set(missions.SearchForm.base_fields)
    assert read >= {"q", "query", "lat", "postal_code"}  # the pattern still finds them
    assert read <= set(settings.PAGE_CACHE_QUERY_PARAMS), read - set(
        settings.PAGE_CACHE_QUERY_PARAMS
    )


def test_head_hits_have_no_body(demo):
    call("/fr/")
    status, headers, body = call("/fr/", method="HEAD")
    assert headers["X-Cache"] == "HIT" and body == b""


def test_signed_in_page_never_reaches_an_anonymous_visitor(demo):
    client = make.client_for(make.user())
    session = client.cookies["sessionid"].value
    status, headers, _ = call("/fr/", cookies=f"sessionid={session}")
    assert "X-Cache" not in headers  # bypassed: the same public page, but neither read nor stored
    status, headers, _ = call("/fr/")  # anonymous: nothing was stored by the signed-in visit
    assert "X-Cache" not in headers
    # And a signed-in visitor is never served the anonymous copy.
    assert "X-Cache" not in call("/fr/", cookies=f"sessionid={session}")[1]


@pytest.mark.parametrize(
    "path, host, method",
    [
        ("/fr/nope/", "localhost", "GET"),
        ("/fr/", "unknown.example", "GET"),
        ("/", "localhost", "GET"),
    ],
)
def test_errors_and_redirects_are_not_stored(demo, path, host, method):
    call(path, host=host, method=method)
    assert "X-Cache" not in call(path, host=host, method=method)[1]


def wait_for_fresh(path, needle, host="localhost", timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = call(path, host=host)[2]
        if needle.encode() in body:
            return True
        time.sleep(0.2)
    return False


def test_publishing_invalidates_every_process_after_commit(
    demo, django_capture_on_commit_callbacks
):
    call("/fr/")
    home = HomePage.objects.get(pk=demo["localhost"].root_page_id)
    home.hero_title = "Titre publie tout juste"
    with django_capture_on_commit_callbacks(execute=True):
        home.save_revision().publish()
    assert wait_for_fresh("/fr/", "Titre publie tout juste")


def test_setting_change_invalidates(demo, django_capture_on_commit_callbacks):
    call("/fr/inscription/")
    portal = PortalSettings.for_site(demo["localhost"])
    portal.banner_message = "Forte affluence ce soir"
    with django_capture_on_commit_callbacks(execute=True):
        portal.save()
    assert wait_for_fresh("/fr/inscription/", "Forte affluence ce soir")


def test_unpublishing_and_moving_invalidate(demo, django_capture_on_commit_callbacks):
    call("/fr/comment-ca-marche/")
    call("/fr/associations/")
    assert call("/fr/comment-ca-marche/")[1]["X-Cache"] == "HIT"
    page = Page.objects.get(slug="comment-ca-marche", locale__language_code="fr")
    with django_capture_on_commit_callbacks(execute=True):
        page.specific.unpublish()
    application.versions.clear()  # as after PAGE_CACHE_VERSION_TTL
    assert call("/fr/comment-ca-marche/")[0].startswith("404")
    moved = Page.objects.get(slug="associations", locale__language_code="fr")
    target = Page.objects.get(slug="questions-frequentes", locale__language_code="fr")
    with django_capture_on_commit_callbacks(execute=True):
        moved.move(target, pos="last-child")
    application.versions.clear()
    status, headers, _ = call("/fr/associations/")  # Wagtail's automatic redirect, not the cache
    assert status.startswith("301") and "X-Cache" not in headers
    assert headers["Location"].endswith("/fr/questions-frequentes/associations/")
    assert call("/fr/questions-frequentes/associations/")[0].startswith("200")


def test_redis_away_the_memory_tier_still_serves_and_renders_once_per_interval(demo):
    """A PageCache on a Redis that refuses: the first visit renders, the next ones are hits
    from this process's memory, without SQL; nothing raises."""
    away = PageCache(application.app, redis_url="redis://127.0.0.1:1/0", session_cookie="sessionid")
    status, headers, first = call("/fr/", app=away)
    assert status.startswith("200") and "X-Cache" not in headers
    with CaptureQueriesContext(connection) as queries:
        status, headers, again = call("/fr/", app=away)
    assert headers["X-Cache"] == "HIT" and len(queries) == 0 and again == first
    away.memory.clear()  # the interval is over: Django renders again, still no error
    status, headers, _ = call("/fr/", app=away)
    assert status.startswith("200") and "X-Cache" not in headers


def test_an_unreachable_redis_is_not_knocked_on_again_for_a_moment():
    """The circuit breaker: after a failed connection, the pool fails fast for its cooldown.
    The "Redis" is a real socket that accepts and hangs up at once, counting connections."""
    with HangUpServer() as server:
        client = redis.Redis(connection_pool=CircuitBreakerConnectionPool.from_url(server.url))
        for _ in range(20):
            with pytest.raises(redis.ConnectionError):
                client.get("x")
        time.sleep(0.1)
        assert server.accepted == 1  # one real attempt, then the circuit is open
        time.sleep(CircuitBreakerConnectionPool.cooldown)
        with pytest.raises(redis.ConnectionError):
            client.get("x")
        time.sleep(0.1)
        assert server.accepted == 2  # the cooldown is over: one more attempt


# -- mission data: the search API and pages, keyed on the search index version too -----------

SEARCH = "/api/v1/missions?q=aide&lat=48.86&lng=2.38&radius_km=50"


def test_a_cached_search_is_answered_before_django_without_sql(demo):
    status, headers, first = call(SEARCH)
    assert status.startswith("200") and "X-Cache" not in headers
    with CaptureQueriesContext(connection) as queries:
        status, headers, again = call(SEARCH)
    assert headers["X-Cache"] == "HIT" and len(queries) == 0
    assert again == first and headers["Content-Type"] == "application/json"


def test_a_mission_change_reaches_cached_searches_within_the_version_ttl(
    demo, django_capture_on_commit_callbacks
):
    """The search page and the API: a new mission shows once the index version moved (every
    process reads it again within PAGE_CACHE_VERSION_TTL; here at once)."""
    page = "/fr/missions/?q=ornithologie"
    call(page), call("/api/v1/missions?q=ornithologie")
    assert call(page)[1]["X-Cache"] == "HIT"
    association = make.organisation(demo["localhost"])
    with django_capture_on_commit_callbacks(execute=True):
        make.mission(association, title="Comptage ornithologique au parc")
    assert call(page)[1]["X-Cache"] == "HIT"  # within the TTL: this process's last version
    application.versions.clear()  # as after PAGE_CACHE_VERSION_TTL
    status, headers, body = call(page)
    assert "X-Cache" not in headers and b"Comptage ornithologique" in body
    status, headers, body = call("/api/v1/missions?q=ornithologie")
    assert "X-Cache" not in headers and b"Comptage ornithologique" in body
    # An application changes the places left: mission data again, but not the other pages.
    call("/fr/")
    with django_capture_on_commit_callbacks(execute=True):
        make.application(Mission.objects.get(title__startswith="Comptage"))
    application.versions.clear()
    assert call("/fr/")[1]["X-Cache"] == "HIT"
    status, headers, body = call("/api/v1/missions?q=ornithologie")
    assert "X-Cache" not in headers and b'"places_left": 2' in body


def test_other_api_paths_and_language_varying_pages_are_never_stored(demo):
    mission = make.mission(make.organisation(demo["localhost"]))
    call(f"/api/v1/missions/{mission.pk}")
    assert "X-Cache" not in call(f"/api/v1/missions/{mission.pk}")[1]
    public = [("Cache-Control", "public, max-age=0")]
    vary = [*public, ("Vary", "Accept-Language")]
    assert storable("200 OK", public)
    assert not storable("200 OK", vary)  # a page in the visitor's language: never shared


def test_redis_away_mission_data_is_still_served_from_memory(demo):
    away = PageCache(
        application.app,
        redis_url="redis://127.0.0.1:1/0",
        session_cookie="sessionid",
        query_params=settings.PAGE_CACHE_QUERY_PARAMS,
        data_paths=settings.PAGE_CACHE_DATA_PATHS,
        data_version_key="search-version",
    )
    assert "X-Cache" not in call(SEARCH, app=away)[1]
    assert call(SEARCH, app=away)[1]["X-Cache"] == "HIT"
