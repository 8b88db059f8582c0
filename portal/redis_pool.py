"""How the portal connects to Redis: a circuit breaker, and optionally Redis Sentinel.

A stopped Redis refuses connections at once, but a host that is gone (or a network that
drops packets) makes every attempt wait for the connect timeout: with a dozen cache reads per
page, a page would take seconds and the web workers would all be waiting. After a failed
connection these pools fail fast for `cooldown` seconds (a miss for the cache, whose errors
are ignored; a 503 for sessions), then let the next request try again. Used by the
django-redis caches (CONNECTION_POOL_CLASS), the page cache in front of Django and the
signup stream.

Sentinel (REDIS_SENTINELS set): every Redis URL names a master that the sentinels watch
instead of a server, `redis://cache/0` being database 0 of the master called "cache". Each
new connection asks the sentinels where that master is, so after a failover the next
connection goes to the promoted replica; the old master's pooled connections fail once and
are replaced. Without REDIS_SENTINELS, URLs name servers and nothing here asks a sentinel.
"""

import time
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.sentinel import Sentinel, SentinelConnectionPool

SENTINEL_PORT = 26379


class CircuitBreaker:
    cooldown = 0.5  # seconds; short, so caching resumes well within a second of Redis' return

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_until = 0.0

    def get_connection(self, *args, **kwargs):
        if time.monotonic() < self.open_until:
            raise redis.ConnectionError("Redis did not answer a moment ago (circuit open)")
        try:
            return super().get_connection(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError):
            self.open_until = time.monotonic() + self.cooldown
            raise


class CircuitBreakerConnectionPool(CircuitBreaker, redis.ConnectionPool):
    """A Redis server named by host and port."""


class CircuitBreakerSentinelPool(CircuitBreaker, SentinelConnectionPool):
    """The current master of a Sentinel service (MasterNotFoundError opens the circuit too)."""


def sentinel_addresses(values: list[str]) -> list[tuple[str, int]]:
    """REDIS_SENTINELS' "host:port,host:port" as (host, port) pairs (port 26379 if left out)."""
    addresses = []
    for value in values:
        host, _, port = value.strip().partition(":")
        if not host or not (port or str(SENTINEL_PORT)).isdigit():
            raise ImproperlyConfigured(
                f"REDIS_SENTINELS: {value!r} is not host:port (e.g. 10.0.0.5:26379)"
            )
        addresses.append((host, int(port or SENTINEL_PORT)))
    return addresses


def master_name(url: str) -> str:
    """The Sentinel master a URL names: its host, without a port (redis://cache/0). TLS
    (rediss://) is not supported behind Sentinel here: refused rather than half working."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname or parts.port:
        raise ImproperlyConfigured(
            f"With REDIS_SENTINELS set, a Redis URL names a Sentinel master, as "
            f"redis://<master name>/<db> without a port; got {url!r}"
        )
    return parts.hostname


def broker_url(url: str, sentinels: list[tuple[str, int]]) -> str:
    """Celery's (kombu's) form of a master's URL: one `sentinel://` per sentinel, with the
    URL's password and database; the master's name goes in the transport options."""
    master_name(url)
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    at = f"{credentials}@" if credentials else ""
    return ";".join(f"sentinel://{at}{host}:{port}{parts.path}" for host, port in sentinels)


_sentinels: dict[tuple, Sentinel] = {}


def sentinel_manager(sentinels: list[tuple[str, int]]) -> Sentinel:
    """One Sentinel client per process and sentinel set; short timeouts towards them too."""
    key = tuple(sentinels)
    if key not in _sentinels:
        _sentinels[key] = Sentinel(
            sentinels, sentinel_kwargs={"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        )
    return _sentinels[key]


def connection_pool(url: str, **kwargs) -> redis.ConnectionPool:
    """A circuit-breaking pool for a Redis URL: the server it names, or with REDIS_SENTINELS
    set the current master of the Sentinel service it names."""
    sentinels = settings.REDIS_SENTINELS
    if not sentinels:
        return CircuitBreakerConnectionPool.from_url(url, **kwargs)
    return CircuitBreakerSentinelPool.from_url(
        url, service_name=master_name(url), sentinel_manager=sentinel_manager(sentinels), **kwargs
    )
