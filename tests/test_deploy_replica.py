"""deploy/postgres-replication.sh and deploy/postgres-replica.sh run for real, as compose's
`postgres` and `postgres-replica` services run them, on private loopback clusters: the primary
gets its replication role, the replica clones it with pg_basebackup and follows its writes,
read-only."""

import psycopg
import pytest

from portal.testing.servers import PG_BIN, PostgresReplica, PostgresServer, allow_replication
from tests.workers import wait_until

pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL's programs are not installed")


@pytest.fixture
def primary():
    server = PostgresServer(name="postgres").start()
    yield server
    server.remove()


def test_the_replica_clones_the_primary_and_follows_its_writes(primary):
    with psycopg.connect(primary.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE mission (id int PRIMARY KEY, title text)")
        conn.execute("INSERT INTO mission VALUES (1, 'before the clone')")
    assert allow_replication(primary.port, primary.data) is True
    assert allow_replication(primary.port, primary.data) is False  # once per cluster
    replica = PostgresReplica(primary.port).start(timeout=60)
    try:
        assert (replica.data / "standby.signal").exists()  # pg_basebackup -R
        with psycopg.connect(primary.url, autocommit=True) as conn:
            conn.execute("INSERT INTO mission VALUES (2, 'after the clone')")
            (sender,) = conn.execute("SELECT state FROM pg_stat_replication").fetchall()
            assert sender == ("streaming",)
        with psycopg.connect(replica.url("postgres"), autocommit=True) as conn:

            def titles():
                return conn.execute("SELECT title FROM mission ORDER BY id").fetchall()

            wait_until(lambda: len(titles()) == 2, timeout=10, message="no streaming")
            assert titles() == [("before the clone",), ("after the clone",)]
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO mission VALUES (3, 'on the replica')")
    finally:
        replica.remove()
    assert replica.pid is None
