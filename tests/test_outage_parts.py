"""The small parts behind "a Redis outage costs no page": log throttling, last known figures."""

import logging
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError, ProgrammingError
from django.test import RequestFactory

from emails import dispatch
from home import figures
from portal.errors import server_error
from portal.logging import OncePerInterval
from tenants.switches import apply
from tests.workers import HangUpServer, use_broker


def record(name="django_redis.cache", msg="Exception ignored", status_code=None):
    rec = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)
    if status_code is not None:
        rec.status_code = status_code
    return rec


def test_an_outage_is_logged_once_per_interval_with_the_count_dropped():
    throttle = OncePerInterval(seconds=0.2)
    passed = [throttle.filter(record()) for _ in range(100)]
    assert passed.count(True) == 1 and passed[0]
    assert throttle.filter(record(name="portal.pagecache"))  # another kind: its own interval
    time.sleep(0.25)
    again = record()
    assert throttle.filter(again)
    assert "99 similar messages dropped" in again.getMessage()


def test_request_log_throttles_503s_only_never_500s():
    throttle = OncePerInterval(seconds=60, status_code=503)
    assert throttle.filter(record("django.request", "%s: %s", 503))
    assert not throttle.filter(record("django.request", "%s: %s", 503))
    assert all(throttle.filter(record("django.request", "%s: %s", 500)) for _ in range(3))


def test_the_logging_settings_apply_the_throttle():
    for name in ("django_redis.cache", "portal.pagecache", "accounts.ratelimits"):
        assert any(isinstance(f, OncePerInterval) for f in logging.getLogger(name).filters)


@pytest.mark.django_db
def test_home_figures_count_once_then_serve_the_last_known_value(demo, django_assert_num_queries):
    site = demo["localhost"]
    first = figures.live_counts(site)
    cache.clear()  # what an outage looks like from here: every read is a miss
    with django_assert_num_queries(0):
        assert figures.live_counts(site) == first


@pytest.mark.django_db
def test_home_figures_recount_once_the_last_known_value_is_a_minute_old(demo, monkeypatch):
    site = demo["localhost"]
    figures.live_counts(site)
    key = f"home:counts:{site.pk}"
    computed_at, counts = figures._last_known[key]
    figures._last_known[key] = (computed_at - figures.FIGURES_TTL - 1, {"volunteers": -1})
    cache.clear()
    assert figures.live_counts(site) == counts  # counted again, not the stale copy


@pytest.mark.django_db
def test_degraded_home_keeps_the_last_known_figures_however_old(demo):
    site = demo["localhost"]
    counts = figures.live_counts(site)
    key = f"home:counts:{site.pk}"
    figures._last_known[key] = (0.0, counts)  # ancient
    cache.clear()
    apply(site, degraded_mode=True)
    assert figures.live_counts(site) == counts
    figures._last_known.clear()
    assert figures.live_counts(site) == {}  # never counted in this process: typed figures only


def test_a_broker_that_is_away_is_not_knocked_on_by_every_signup(settings):
    """After one failed publish, this process leaves the broker alone for a few seconds (the
    sweeper sends what was committed): a signup during the outage pays no failed connection.
    The "broker" is a real socket that accepts and hangs up at once, counting connections."""
    with HangUpServer() as broker:
        use_broker(broker.url)
        try:
            assert dispatch.publish(dispatch.DRAIN) is False
            time.sleep(0.2)
            tried = broker.accepted
            assert tried >= 1
            started = time.monotonic()
            assert not any(dispatch.publish(dispatch.DRAIN) for _ in range(50))
            assert time.monotonic() - started < 0.1
            time.sleep(0.2)
            assert broker.accepted == tried  # nobody knocked again
            dispatch._broker["down_until"] = 0.0  # the pause is over: one more try
            assert dispatch.publish(dispatch.DRAIN) is False
            time.sleep(0.2)
            assert broker.accepted > tried
        finally:
            use_broker(settings.CELERY_BROKER_URL)


@pytest.mark.django_db
def test_design_system_files_carry_no_integrity_hash_the_manifest_would_break(client, demo):
    """The manifest storage rewrites DSFR's CSS; a hash of the original file would make every
    browser refuse it in production (checked in Chromium: an unstyled page)."""
    body = client.get("/fr/", HTTP_HOST="localhost").content.decode()
    assert "dsfr.min" in body and "integrity=" not in body


@pytest.mark.parametrize("path", ["/fr/missions/1/", "/api/v1/missions"])
def test_a_database_that_is_restarting_answers_503_with_retry_after(path):
    """What the launch rehearsal saw during PostgreSQL's restart: 500s, now 503s."""
    request = RequestFactory().get(path)
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    try:
        raise ProgrammingError("column does not exist")  # a bug stays a 500
    except ProgrammingError:
        assert server_error(request).status_code == 500
