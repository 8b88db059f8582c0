"""Signups accepted into a durable Redis stream, written to PostgreSQL in batches.

Queue-based load levelling: the request validates, counts its rate limits, appends the signup
to a stream on the non-evicting Redis that keeps sessions (append-only file on) and answers
202 without a single SQL statement. `manage.py consume_signups` (accounts.signup_writer)
reads the stream in a consumer group and writes the accounts in batches. If the stream cannot
be written, the request falls back to the synchronous path (accounts.services.signup): an
accepted signup is never only in the web process's memory. Both away: `Unavailable` (a 503).

A sign-in link asked for an address whose signup still waits in the stream is appended to the
same stream (`kind=signin`): the consumer handles it after the signup it follows.
"""

import datetime
import json
import logging
import time

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from wagtail.models import Site

from portal import redis_pool
from tenants.models import PortalSettings

from . import ratelimits, services
from .models import normalize_email

logger = logging.getLogger(__name__)

GROUP = "writers"
# How long the "a signup for this address is in the stream" marker lives: well beyond any
# backlog /healthz tolerates, short enough to hold no personal data for long.
PENDING_MARKER_SECONDS = 3600
RETRY_AFTER_SECONDS = 5
# The database is unreachable (refused, cut, timed out), as opposed to a query that is wrong:
# a bug must stay a 500 that someone sees, not pass for an outage.
DATABASE_AWAY = (OperationalError, InterfaceError)


class Unavailable(Exception):
    """Neither the stream nor the database took the signup: the client should come back."""


class RateLimited(Exception):
    def __init__(self, limited: ratelimits.Limited):
        super().__init__(limited)
        self.limited = limited


# An entry in one round trip: the rate-limit counters given (a signup's: per IP, then per
# address, each counted only if the one before let it through, as check_signup does), the
# XADD and the "waiting" marker. KEYS: the stream, the marker, then one counter per limit;
# ARGV: the marker's value and TTL, the entry as one JSON object, then each counter's limit
# and TTL. 0 = appended, n = refused by the n-th counter.
# An entry is one stream field holding the JSON object: spreading its 11 names and values
# over the entry cost the web process (packing) and Redis (cjson.decode in the script, a
# 22-argument XADD) more than the consumer's one json.loads.
FIELD = "d"
APPEND_SCRIPT = f"""
for i = 3, #KEYS do
    local count = redis.call('INCR', KEYS[i])
    if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i - 1]) end
    if count > tonumber(ARGV[2 * i - 2]) then return i - 2 end
end
redis.call('XADD', KEYS[1], '*', '{FIELD}', ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 0
"""


_client: dict[tuple, redis.Redis] = {}


def client() -> redis.Redis:
    """One client per process and URL (behind Sentinel: per master); short timeouts and a
    circuit breaker, so a Redis that is away costs a request one failed connection at most,
    then nothing for a moment."""
    url = settings.SIGNUP_STREAM_URL
    key = (url, tuple(settings.REDIS_SENTINELS))
    if key not in _client:
        pool = redis_pool.connection_pool(
            url, socket_connect_timeout=0.5, socket_timeout=1, health_check_interval=30
        )
        _client[key] = redis.Redis(connection_pool=pool)
    return _client[key]


def stream_key() -> str:
    return settings.SIGNUP_STREAM_KEY


def marker_key(email: str) -> str:
    return f"{stream_key()}:pending:{services.digest(normalize_email(email))}"


def packed(fields: dict) -> dict:
    """The stream entry holding `fields` (what the script appends; tests and the bench XADD
    it themselves)."""
    return {FIELD: json.dumps(fields)}


def accepted_at(fields: dict) -> datetime.datetime:
    return datetime.datetime.fromisoformat(fields["at"])


def entry(kind: str, *, site: Site, language: str, email: str, next_url: str = "", **data):
    """A stream entry: flat strings, the moment of acceptance with microseconds (the account's
    date_joined: it also tells a replay of this very entry from a later signup)."""
    fields = {
        "kind": kind,
        "email": normalize_email(email),
        "site": str(site.pk),
        "language": language,
        "next": next_url or "",
        "at": timezone.now().isoformat(),
    }
    for name, value in data.items():
        fields[name] = value.isoformat() if isinstance(value, datetime.date) else str(value or "")
    return fields


_scripts: dict[int, object] = {}


def append(fields: dict, windows=()) -> bool:
    """XADD the entry and mark its address as waiting, counting `windows` (rate limits,
    ratelimits.Window) first, in one script on the stream's Redis. False if that Redis is
    away (nothing counted there: the synchronous path counts in the cache instead); raises
    RateLimited, with nothing appended, when a window is full."""
    r = client()
    script = _scripts.get(id(r)) or _scripts.setdefault(id(r), r.register_script(APPEND_SCRIPT))
    keys = [stream_key(), marker_key(fields["email"])]
    keys += [f"{stream_key()}:rl:{w.key}" for w in windows]
    args = [fields["at"], PENDING_MARKER_SECONDS, json.dumps(fields)]
    args += [arg for w in windows for arg in (w.limit, w.seconds_left + 1)]
    try:
        refused = int(script(keys=keys, args=args))
    except redis.RedisError:
        logger.warning("Signup stream unwritable: synchronous path", exc_info=True)
        return False
    if refused:
        raise RateLimited(ratelimits.Limited(windows[refused - 1].seconds_left))
    return True


def signups_open(site: Site) -> bool:
    """The portal's switch, as cached per process; with PostgreSQL away and no copy in this
    process, open (the signup is only accepted, the switch is read again once it is back)."""
    try:
        return PortalSettings.cached_for_site(site).signups_open
    except DATABASE_AWAY:
        return True


def accept(request, *, site: Site, language: str, data: dict, next_url: str = "") -> str:
    """Take a validated signup, its rate limits counted: "stream" (queued, one Redis round
    trip for everything) or "direct" (written now).

    Raises RateLimited over a limit, services.SignupsClosed when the portal takes none,
    Unavailable when neither the stream nor the database can take it.
    """
    if settings.SIGNUP_STREAM:
        if not signups_open(site):
            raise services.SignupsClosed
        fields = entry(
            "signup",
            site=site,
            language=language,
            email=data["email"],
            next_url=next_url,
            first_name=data["first_name"],
            last_name=data["last_name"],
            postal_code=data["postal_code"],
            birth_date=data["birth_date"],
            phone=data.get("phone", ""),
        )
        if append(fields, ratelimits.signup_windows(request, data["email"])):
            return "stream"
    if limited := ratelimits.check_signup(request, data["email"]):
        raise RateLimited(limited)
    try:
        services.signup(site=site, language=language, data=data, next_url=next_url)
    except DATABASE_AWAY as error:
        logger.error("Signup refused: stream and database both unavailable (%s)", error)
        raise Unavailable from error
    return "direct"


def send_signin_link(*, email: str, site: Site, language: str, next_url: str = "") -> None:
    """Reads after write: an address whose signup still waits in the stream gets its link
    from the consumer, right after its account is written; any other, at once."""
    if settings.SIGNUP_STREAM:
        try:
            waiting = client().exists(marker_key(email))
        except redis.RedisError:
            waiting = False
        if waiting:
            fields = entry("signin", site=site, language=language, email=email, next_url=next_url)
            if append(fields):
                return
    services.send_signin_link(email=email, site=site, language=language, next_url=next_url)


def waiting(emails) -> set[str]:
    """Those of `emails` (normalized) whose signup is still in the stream, not yet written."""
    emails = list(emails)
    pipe = client().pipeline(transaction=False)
    for email in emails:
        pipe.exists(marker_key(email))
    return {email for email, found in zip(emails, pipe.execute(), strict=True) if found}


def stats() -> dict:
    """Back-pressure: entries waiting (read or not) and the age of the oldest, in seconds.

    Acknowledged entries are deleted, so the stream holds exactly what is not written yet,
    and its first entry is the oldest (its id is its acceptance time in milliseconds).
    """
    r = client()
    pipe = r.pipeline(transaction=False)
    pipe.xlen(stream_key())
    pipe.xrange(stream_key(), count=1)
    length, first = pipe.execute()
    oldest = 0.0
    if first:
        millis = int(first[0][0].split(b"-")[0])
        oldest = max(0.0, time.time() - millis / 1000)
    try:
        pending = r.xpending(stream_key(), GROUP)["pending"]
    except redis.ResponseError:  # no group yet: no consumer ever started
        pending = 0
    lagging = oldest > settings.SIGNUP_STREAM_MAX_LAG
    return {
        "status": "degraded" if lagging else "ok",
        "length": length,
        "pending": pending,
        "oldest_age_seconds": round(oldest, 3),
        "max_lag_seconds": settings.SIGNUP_STREAM_MAX_LAG,
    }
