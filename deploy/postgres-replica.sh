#!/bin/sh
# The `postgres-replica` service: a hot standby of `postgres` fed by streaming replication.
# On an empty data directory it clones the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo), then runs PostgreSQL as a read-only standby that
# follows the primary. Arguments are passed on to postgres (`-c name=value`). Fallen too far
# behind (the primary keeps wal_keep_size of WAL for it): remove its data (compose: the
# `pgdata-replica` volume) and start it again to clone anew. `make rehearsal` runs it too.
set -eu
: "${PRIMARY_HOST:?the primary's host}" "${PGDATA:?the replica's data directory}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h "$PRIMARY_HOST" -p "${PRIMARY_PORT:-5432}" -U replicator; do
        sleep 1
    done
    PGPASSWORD="${REPLICATION_PASSWORD:-}" pg_basebackup -h "$PRIMARY_HOST" \
        -p "${PRIMARY_PORT:-5432}" -U replicator -D "$PGDATA" -R -X stream --checkpoint=fast
    chmod 700 "$PGDATA"
fi
exec postgres -c listen_addresses='*' -c hot_standby=on -c hot_standby_feedback=on "$@"
