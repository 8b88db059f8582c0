import pytest
from django.core.cache import caches

from tests.workers import use_broker

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_part_ok_and_is_never_cached(client):
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "sessions": "ok", "broker": "ok"}
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


def test_healthz_names_the_cache_when_redis_is_down(client, settings):
    dead = dict(settings.CACHES["default"], LOCATION="redis://127.0.0.1:1/0")
    settings.CACHES = {**settings.CACHES, "default": dead}
    caches._settings = None  # noqa: SLF001 - rebuild cache handlers from the new setting
    try:
        del caches["default"]
    except (AttributeError, KeyError):
        pass
    try:
        response = client.get("/healthz", HTTP_HOST="10.0.0.1")
    finally:
        try:
            del caches["default"]
        except (AttributeError, KeyError):
            pass
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert body["cache"] != "ok"


def test_healthz_names_the_broker_when_it_is_down(client, settings):
    use_broker("redis://127.0.0.1:1/0")
    try:
        response = client.get("/healthz", HTTP_HOST="10.0.0.1")
    finally:
        use_broker(settings.CELERY_BROKER_URL)
    assert response.status_code == 503
    assert response.json()["broker"] != "ok"
    assert response.json()["database"] == "ok"
