#!/bin/sh
# Run once by the postgres image on a new data directory (/docker-entrypoint-initdb.d): the
# role the streaming replica (`postgres-replica`, deploy/postgres-replica.sh) connects as, and
# the pg_hba line that lets it stream ("all" in pg_hba does not cover replication).
set -eu
psql -v ON_ERROR_STOP=1 -v password="$REPLICATION_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
