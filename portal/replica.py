"""Reads that may come from a PostgreSQL streaming replica (DATABASE_REPLICA_URL).

Only the public read paths that dominate a spike go there: search (page and API), mission and
organisation pages, the missions API (`REPLICA_VIEWS`). Everything else, every write, and the
reads of a visitor who has just written (a `primary_until` cookie set by any successful unsafe
request, REPLICA_STICKY_SECONDS long: read-your-writes) stay on the primary.

The replica is used only while its replay lag is at most REPLICA_MAX_LAG seconds, checked at
most once per REPLICA_CHECK_INTERVAL per process; a replica that lags, is unreachable or is not
a standby sends the reads back to the primary until the next check finds it fresh again.
"""

import contextvars
import logging
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

ALIAS = "replica"
STICKY_COOKIE = "primary_until"
REPLICA_VIEWS = frozenset(
    {
        "search",
        "missions",
        "mission",
        "mission_slug",
        "organisation",
        "list_missions",
        "get_mission",
    }
)
LAG_SQL = (
    "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)

_reads = contextvars.ContextVar("replica_reads", default=False)
_state = {"checked": -1e9, "usable": False, "lag": None}


def configured() -> bool:
    return ALIAS in connections.settings


def lag_seconds() -> float | None:
    """The replica's replay lag in seconds: 0 when it has replayed all it received, the age
    of its last replayed commit otherwise (infinite when it has replayed none yet); None when
    it is not a standby at all."""
    with connections[ALIAS].cursor() as cursor:
        cursor.execute(LAG_SQL)
        in_recovery, caught_up, seconds = cursor.fetchone()
    if not in_recovery:
        return None
    if caught_up:
        return 0.0
    return float(seconds) if seconds is not None else float("inf")


def replica_usable(now: float | None = None) -> bool:
    now = time.monotonic() if now is None else now
    if now - _state["checked"] < settings.REPLICA_CHECK_INTERVAL:
        return _state["usable"]
    _state["checked"] = now
    try:
        lag = lag_seconds()
    except DatabaseError as error:
        logger.warning("Replica unreachable, reading from the primary: %s", error)
        connections[ALIAS].close()
        lag = None
    _state["lag"] = lag
    usable = lag is not None and lag <= settings.REPLICA_MAX_LAG
    if not usable and _state["usable"]:
        logger.warning(
            "Replica lag %s s over %s s: reading from the primary", lag, settings.REPLICA_MAX_LAG
        )
    _state["usable"] = usable
    return usable


def forget_check() -> None:
    """The next read checks the replica again (tests, and after a failover)."""
    _state["checked"] = -1e9


class ReplicaRouter:
    """Reads go to the replica inside a replica view, when it is fresh enough."""

    def db_for_read(self, model, **hints):
        if _reads.get() and replica_usable():
            return ALIAS
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != ALIAS  # a standby is read-only: it gets its schema by replication


class ReplicaReadsMiddleware:
    """Marks the replica views' reads; after a write, keeps the visitor on the primary."""

    def __init__(self, get_response):
        if not configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        request._replica_token = None
        try:
            response = self.get_response(request)
        finally:
            if request._replica_token is not None:
                _reads.reset(request._replica_token)
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            sticky = settings.REPLICA_STICKY_SECONDS
            response.set_cookie(
                STICKY_COOKIE,
                str(int(time.time() + sticky)),
                max_age=int(sticky),
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method not in ("GET", "HEAD") or match is None:
            return None
        if match.url_name not in REPLICA_VIEWS or self.wrote_recently(request):
            return None
        request._replica_token = _reads.set(True)
        return None

    @staticmethod
    def wrote_recently(request) -> bool:
        try:
            return int(request.COOKIES.get(STICKY_COOKIE, "0")) > time.time()
        except ValueError:
            return False
