#!/bin/sh
# One sentinel of the `sentinel` profile: watches the cache Redis as the master "cache" and
# the sessions/broker Redis as "sessions"; two sentinels must agree a master is down
# (quorum 2: run three, `--scale sentinel=3`). Sentinel rewrites its configuration file,
# so each container writes its own at start.
set -eu
cat > /tmp/sentinel.conf <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel monitor cache redis 6379 2
sentinel down-after-milliseconds cache 5000
sentinel failover-timeout cache 60000
sentinel monitor sessions redis-sessions 6379 2
sentinel down-after-milliseconds sessions 5000
sentinel failover-timeout sessions 60000
CONF
exec redis-server /tmp/sentinel.conf --sentinel
