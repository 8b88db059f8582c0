"""Redis behind Sentinel: the settings load, and every Redis client follows a failover.

Two masters (the cache, and sessions/broker/signup stream), a replica each and three
sentinels, all on loopback ports of their own (never the suite's Redis). The cache, the
session store, the signup stream, the page cache and a Celery (kombu) connection are built
from the settings functions production uses; each writes, both masters are killed with
SIGKILL, and once the sentinels have promoted the replicas the same clients write again, the
writes landing on the promoted replicas, with what was written before still there.
"""

import json
import shutil
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from kombu import Connection

from accounts import signup_stream
from accounts.signup_writer import decode
from portal import pagecache
from portal.redis_pool import master_name, sentinel_addresses
from portal.sessions import SessionStore
from portal.settings.base import celery_broker, redis_caches
from tests.test_settings import PRODUCTION_ENV, run
from tests.workers import SentinelSet, WebServer, wait_until

needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (its --sentinel mode runs the sentinels)",
)


def test_without_sentinels_redis_urls_name_servers():
    """REDIS_SENTINELS unset (the default): nothing asks a sentinel."""
    caches_config = redis_caches("redis://cache:6379/0", "redis://sessions:6379/0", [])
    assert "SENTINELS" not in caches_config["default"]["OPTIONS"]
    assert celery_broker("redis://sessions:6379/1", [])[0] == "redis://sessions:6379/1"


def test_production_settings_read_the_sentinels_from_the_environment():
    result = run(
        "import json; from django.conf import settings as s; from celery_app import app;"
        "print(json.dumps({'sentinels': s.REDIS_SENTINELS, 'cache': s.CACHES['default'],"
        " 'sessions': s.CACHES['sessions']['LOCATION'],"
        " 'broker': [app.conf.broker_read_url, app.conf.broker_write_url],"
        " 'master': app.conf.broker_transport_options['master_name'],"
        " 'stream': s.SIGNUP_STREAM_URL}))",
        **{
            **PRODUCTION_ENV,
            "ALLOW_SHARED_CACHE_REDIS": "false",
            "REDIS_SENTINELS": "10.0.0.1:26379,10.0.0.2:26380,10.0.0.3",
            "REDIS_URL": "redis://cache/0",
            "SESSION_REDIS_URL": "redis://:secret@sessions/0",
            "CELERY_BROKER_URL": "redis://:secret@sessions/1",
        },
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["sentinels"] == [["10.0.0.1", 26379], ["10.0.0.2", 26380], ["10.0.0.3", 26379]]
    assert config["cache"]["LOCATION"] == "redis://cache/0"
    assert config["cache"]["OPTIONS"]["CONNECTION_FACTORY"].endswith("SentinelConnectionFactory")
    assert config["cache"]["OPTIONS"]["CONNECTION_POOL_CLASS"].endswith(
        "CircuitBreakerSentinelPool"
    )
    assert config["sessions"] == "redis://:secret@sessions/0"
    # The settings' URL, not the environment's redis:// (which Celery would otherwise prefer).
    assert config["broker"] == 2 * [
        "sentinel://:secret@10.0.0.1:26379/1;sentinel://:secret@10.0.0.2:26380/1;"
        "sentinel://:secret@10.0.0.3:26379/1"
    ]
    assert config["master"] == "sessions"
    assert config["stream"] == "redis://:secret@sessions/0"


def test_a_server_url_behind_sentinels_is_refused_at_start_up():
    """A forgotten redis://host:port would otherwise be read as a master named "host"."""
    result = run(
        "import django; django.setup()",
        **{**PRODUCTION_ENV, "REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_URL": "redis://r:6379/0"},
    )
    assert result.returncode != 0
    assert "names a Sentinel master" in result.stderr
    with pytest.raises(ImproperlyConfigured, match="not host:port"):
        sentinel_addresses(["10.0.0.1:port"])
    with pytest.raises(ImproperlyConfigured, match="names a Sentinel master"):
        master_name("rediss://cache/0")  # TLS behind Sentinel: not supported, so refused
    assert master_name("redis://:secret@cache/2") == "cache"


@pytest.fixture
def sentinel_set(tmp_path):
    # Names of their own: django-redis keeps its pools per URL for the whole process.
    suffix = uuid.uuid4().hex[:8]
    with SentinelSet((f"cache-{suffix}", f"sessions-{suffix}"), tmp_path) as servers:
        yield servers


def writes(tag: str, cache_url: str, stream_url: str, broker: tuple[str, dict]) -> str:
    """One write through each client; the session's key is returned to read it back later."""
    caches["default"].set(f"sentinel-{tag}", tag)
    session = SessionStore()
    session["tag"] = tag
    session.create()
    assert signup_stream.append({"kind": "signup", "email": f"{tag}@example.org", "at": tag})
    pagecache.bump([f"{tag}.example.org"], cache_url)
    url, options = broker
    with Connection(url, transport_options=options, connect_timeout=2) as connection:
        queue = connection.SimpleQueue("sentinel-test")
        queue.put({"tag": tag})
        queue.close()
    return session.session_key


@needs_redis
def test_every_redis_client_writes_to_the_promoted_replica_after_a_failover(sentinel_set):
    cache_name, sessions_name = sentinel_set.masters
    cache_url, session_url = f"redis://{cache_name}/0", f"redis://{sessions_name}/0"
    sentinels = sentinel_set.addresses
    broker = celery_broker(f"redis://{sessions_name}/1", sentinels)
    assert broker[1]["master_name"] == sessions_name
    settings = {
        "REDIS_SENTINELS": sentinels,
        "CACHES": redis_caches(cache_url, session_url, sentinels),
        "SIGNUP_STREAM_URL": session_url,
    }
    with override_settings(**settings):
        before = writes("before", cache_url, session_url, broker)

        cache_master = sentinel_set.masters[cache_name].client()
        sessions_master = sentinel_set.masters[sessions_name].client()
        assert cache_master.exists(caches["default"].make_key("sentinel-before"))
        assert sessions_master.xlen(signup_stream.stream_key()) == 1
        # Asynchronous replication: let the replicas catch up, as a calm second would.
        wait_until(sentinel_set.replicated, timeout=5, message="the replicas did not catch up")

        for master in sentinel_set.masters.values():
            master.kill()
        for name, replica in sentinel_set.replicas.items():
            wait_until(
                lambda name=name, replica=replica: sentinel_set.master_port(name) == replica.port,
                timeout=15,
                message=f"the sentinels did not promote {name}'s replica",
            )

        writes("after", cache_url, session_url, broker)

        cache_replica = sentinel_set.replicas[cache_name].client()
        sessions_replica = sentinel_set.replicas[sessions_name].client()
        assert cache_replica.info("replication")["role"] == "master"
        for tag in ("before", "after"):
            assert caches["default"].get(f"sentinel-{tag}") == tag
            assert cache_replica.exists(caches["default"].make_key(f"sentinel-{tag}"))
            assert cache_replica.get(f"pagecache:v:{tag}.example.org") == b"1"
        assert SessionStore(before).load() == {"tag": "before"}
        stream = sessions_replica.xrange(signup_stream.stream_key())
        assert [fields["at"] for _id, fields in decode(stream)] == ["before", "after"]
        broker_db = redis.Redis(port=sentinel_set.replicas[sessions_name].port, db=1)
        assert broker_db.llen("sentinel-test") == 2


@needs_redis
def test_the_production_server_is_healthy_again_after_a_failover(sentinel_set, db):
    """gunicorn under the production settings, configured by the environment alone: /healthz
    (database, cache, sessions, broker, signup stream) answers "ok" through the sentinels, and
    "ok" again once they have promoted the replicas after both masters died."""
    cache_name, sessions_name = sentinel_set.masters
    environment = {
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
        "ALLOWED_HOSTS": "*",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "REDIS_SENTINELS": ",".join(f"{host}:{port}" for host, port in sentinel_set.addresses),
        "REDIS_URL": f"redis://{cache_name}/0",
        "SESSION_REDIS_URL": f"redis://{sessions_name}/0",
        "CELERY_BROKER_URL": f"redis://{sessions_name}/1",
        "SIGNUP_STREAM": "true",
    }

    def healthy(server) -> bool:
        answer = server.get("/healthz")
        body = answer.json()
        parts = [body.pop("signups")["status"], *body.values()]
        return answer.status_code == 200 and set(parts) == {"ok"}

    with WebServer(**environment) as server:
        assert healthy(server)
        for master in sentinel_set.masters.values():
            master.kill()
        for name, replica in sentinel_set.replicas.items():
            wait_until(
                lambda name=name, replica=replica: sentinel_set.master_port(name) == (replica.port),
                timeout=15,
                message=f"the sentinels did not promote {name}'s replica",
            )
        wait_until(lambda: healthy(server), timeout=10, message="/healthz stayed unhealthy")
