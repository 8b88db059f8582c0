"""The read replica (portal/replica.py) against a real PostgreSQL streaming standby.

Runs when configured: REPLICA_TESTS=1 (or DATABASE_REPLICA_URL set). The test starts its own
primary (initdb, a free port) and a standby made with pg_basebackup, streaming on loopback, by
deploy/postgres-replica.sh as compose and the rehearsal run it; the suite's database is not
involved. A few seconds.
"""

import os
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from portal import replica
from portal.testing.servers import (
    PG_BIN,
    PostgresReplica,
    PostgresServer,
    allow_replication,
    free_port,
)

pytestmark = [
    pytest.mark.skipif(
        not (os.environ.get("REPLICA_TESTS") or settings.DATABASE_REPLICA_URL),
        reason="replica tests run when configured: REPLICA_TESTS=1 or DATABASE_REPLICA_URL",
    ),
    pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL binaries not installed"),
]


@pytest.fixture(scope="module")
def pair():
    primary = PostgresServer("portal").start()
    standby = None
    try:
        primary.run(
            "createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "portal"
        )
        with psycopg.connect(primary.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
        allow_replication(primary.port, primary.data)
        standby = PostgresReplica(primary.port).start(timeout=60)
        yield primary, standby
    finally:
        if standby is not None:
            standby.remove()
        primary.remove()


@pytest.fixture
def replica_alias(pair, django_db_blocker):
    """The `replica` alias pointed at the standby, as DATABASE_REPLICA_URL would."""
    _, standby = pair
    entry = {
        **settings.DATABASES["default"],
        "NAME": "portal",
        "HOST": "127.0.0.1",
        "PORT": standby.port,
        "USER": "postgres",
        "PASSWORD": "",
        "TEST": {},
    }
    configured = {"default": settings.DATABASES["default"], replica.ALIAS: entry}
    connections.settings[replica.ALIAS] = connections.configure_settings(configured)[replica.ALIAS]
    replica.forget_check()
    with django_db_blocker.unblock():  # the standby only: the suite's database is not used
        yield
    connections[replica.ALIAS].close()
    del connections.settings[replica.ALIAS]
    delattr(connections._connections, replica.ALIAS)
    replica.forget_check()


def wait_until(check, timeout=10):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_fresh_standby_is_used_a_lagging_one_is_not(pair, replica_alias):
    primary, standby = pair
    assert replica.lag_seconds() == 0  # streaming and caught up
    assert replica.replica_usable()
    # Replay paused on the standby while the primary goes on writing: the lag grows past
    # REPLICA_MAX_LAG and reads go back to the primary.
    with psycopg.connect(standby.url("portal"), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        with psycopg.connect(primary.url, autocommit=True) as writer:
            writer.execute("INSERT INTO t VALUES (1)")
            with override_settings(REPLICA_MAX_LAG=0.5):
                wait_until(lambda: (replica.lag_seconds() or 0) > 0.5)
                replica.forget_check()
                assert not replica.replica_usable()
        conn.execute("SELECT pg_wal_replay_resume()")
    wait_until(lambda: replica.lag_seconds() == 0)
    replica.forget_check()
    assert replica.replica_usable()


def test_the_router_reads_from_the_replica_only_in_replica_views(pair, replica_alias):
    router = replica.ReplicaRouter()
    assert router.db_for_read(None) is None  # outside a replica view: the primary
    assert router.db_for_write(None) is None
    assert not router.allow_migrate(replica.ALIAS, "missions")
    seen = []

    def handler(request):
        """Django's handler: the middleware's process_view, then the view."""
        middleware.process_view(request, None, (), {})
        seen.append(router.db_for_read(None))
        return HttpResponse("ok")

    middleware = replica.ReplicaReadsMiddleware(handler)
    factory = RequestFactory()

    def visit(method, url_name, cookies=None):
        request = getattr(factory, method)("/x")
        request.COOKIES.update(cookies or {})
        request.resolver_match = type("Match", (), {"url_name": url_name})()
        return middleware(request)

    visit("get", "list_missions")
    visit("get", "space")  # the volunteer space: never the replica
    response = visit("post", "list_missions")
    sticky = response.cookies[replica.STICKY_COOKIE].value
    visit("get", "mission_slug", {replica.STICKY_COOKIE: sticky})  # just wrote: primary
    assert seen == [replica.ALIAS, None, None, None]
    assert router.db_for_read(None) is None  # after the request: the primary again


def test_an_unreachable_replica_sends_reads_to_the_primary(replica_alias):
    connections[replica.ALIAS].close()
    connections.settings[replica.ALIAS]["PORT"] = free_port()  # nothing listens there
    replica.forget_check()
    assert not replica.replica_usable()
    router = replica.ReplicaRouter()
    token = replica._reads.set(True)
    try:
        assert router.db_for_read(None) is None
    finally:
        replica._reads.reset(token)
