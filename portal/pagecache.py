"""Anonymous pages served from cache *before* Django's handler runs.

Behind the CDN, the same few pages (home, campaign pages, signup) are asked for thousands of
times a second. Django's own cache middleware still runs the whole middleware stack and two Redis
reads per hit (~0.5x a bare view here); this WSGI wrapper answers a hit with one dict lookup
(per-process memory tier, `PAGE_CACHE_MEMORY_TTL` seconds at most) or one Redis GET.

Rules:
* only GET/HEAD without a session cookie or Authorization header are looked up;
* only 200 responses that Django marked `Cache-Control: public` (portal.cache), without
  Set-Cookie and without `Vary: Cookie`, are stored: a signed-in request is never stored,
  because it carries a session cookie (bypass), and a page that read the session is private;
* keys: host (lower case, no trailing dot), path and the query parameters pages read
  (`PAGE_CACHE_QUERY_PARAMS`, sorted; the language is the path prefix, /fr/ or /en/), under
  a per-host version number kept in Redis. Tracking parameters (utm_*, fbclid...) are left
  out of the key; a query with any other parameter is looked up without it but never stored,
  so `?r=<random>` can neither fill Redis nor make Django render each time, and a parameter
  some page might read can never put its answer under the plain URL. Invalidation bumps the
  version of the site's hostnames (tenants.signals, home.signals): every process sees it
  within `PAGE_CACHE_VERSION_TTL`.
* Redis away: the memory tier goes on (the last version seen for the host, pages kept
  `PAGE_CACHE_MEMORY_TTL` seconds), so each process renders a hot page once per interval
  instead of on every request; the pool fails fast meanwhile (portal.redis_pool).
"""

import hashlib
import logging
import pickle
import time
from urllib.parse import parse_qsl, urlencode

import redis

from portal.redis_pool import CircuitBreakerConnectionPool

logger = logging.getLogger(__name__)

VERSION_KEY = "pagecache:v:{host}"
ENTRY_KEY = "pagecache:e:{host}:{version}:{digest}"
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "msclkid", "xtor", "_ga"})
SKIP_PREFIXES = ("/admin", "/api/", "/healthz", "/_ping", "/anymail/", "/documents/", "/static/")


class PageCache:
    def __init__(
        self,
        app,
        *,
        redis_url: str,
        session_cookie: str,
        ttl: int = 300,
        memory_ttl: float = 2.0,
        version_ttl: float = 1.0,
        max_memory_entries: int = 5000,
        serves_host=lambda host: True,
        query_params=frozenset(),
    ):
        self.app = app
        self.query_params = frozenset(query_params)
        # Only a portal's own hostname is served from cache: once a process learns that a
        # host became an alias (domain switch), its requests go to Django for the redirect,
        # whatever was cached under that host before.
        self.serves_host = serves_host
        self.redis = redis_client(redis_url, timeout=0.5)
        self.session_marker = f"{session_cookie}="
        self.ttl = ttl
        self.memory_ttl = memory_ttl
        self.version_ttl = version_ttl
        self.max_memory_entries = max_memory_entries
        self.memory: dict[str, tuple[float, tuple]] = {}
        self.versions: dict[str, tuple[float, int]] = {}

    # -- lookup ------------------------------------------------------------------------------

    def eligible(self, environ) -> bool:
        return (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and self.session_marker not in environ.get("HTTP_COOKIE", "")
            and "HTTP_AUTHORIZATION" not in environ
            and not environ.get("PATH_INFO", "").startswith(SKIP_PREFIXES)
        )

    def version(self, host: str, now: float) -> int:
        cached = self.versions.get(host)
        if cached and cached[0] > now:
            return cached[1]
        try:
            value = int(self.redis.get(VERSION_KEY.format(host=host)) or 0)
        except redis.RedisError:
            logger.warning("Page cache: Redis unavailable, memory tier only", exc_info=True)
            # Keep the last version seen (-1: one only the memory tier uses) and ask Redis
            # again in version_ttl, not on every request.
            value = cached[1] if cached else -1
        self.versions[host] = (now + self.version_ttl, value)
        return value

    def normalised_query(self, query_string: str) -> tuple[str, bool]:
        """The query as the cache key sees it, and whether a response to it may be stored."""
        kept, storable = [], True
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            if name in self.query_params:
                kept.append((name, value))
            elif not (name.startswith(TRACKING_PREFIXES) or name in TRACKING_PARAMS):
                storable = False
        return urlencode(sorted(kept)), storable

    def key(self, host: str, path: str, query: str, now: float) -> str:
        digest = hashlib.sha1(f"{path}?{query}".encode("utf-8", "surrogateescape")).hexdigest()
        return ENTRY_KEY.format(host=host, version=self.version(host, now), digest=digest)

    def __call__(self, environ, start_response):
        if not self.eligible(environ):
            return self.app(environ, start_response)
        host = environ.get("HTTP_HOST", "").split(":")[0].lower().rstrip(".")
        if not self.serves_host(host):
            return self.app(environ, start_response)
        now = time.monotonic()
        query, may_store = self.normalised_query(environ.get("QUERY_STRING", ""))
        key = self.key(host, environ.get("PATH_INFO", ""), query, now)
        entry = self.lookup(key, now)
        if entry is not None:
            status, headers, body = entry
            start_response(status, [*headers, ("X-Cache", "HIT")])
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        if not may_store:
            return self.app(environ, start_response)
        return self.fill(key, environ, start_response, now)

    def lookup(self, key: str, now: float):
        cached = self.memory.get(key)
        if cached and cached[0] > now:
            return cached[1]
        try:
            raw = self.redis.get(key)
        except redis.RedisError:
            logger.warning("Page cache: Redis unavailable, memory tier only", exc_info=True)
            return None
        if raw is None:
            return None
        entry = pickle.loads(raw)  # noqa: S301 - written by this class only, in our Redis
        self.remember(key, entry, now)
        return entry

    def remember(self, key, entry, now):
        if len(self.memory) >= self.max_memory_entries:
            self.memory.clear()
        self.memory[key] = (now + self.memory_ttl, entry)

    # -- store -------------------------------------------------------------------------------

    def fill(self, key, environ, start_response, now):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = captured.get("status", ""), captured.get("headers", [])
        if environ["REQUEST_METHOD"] == "GET" and storable(status, headers):
            entry = (status, [(k, v) for k, v in headers if k.lower() != "x-cache"], body)
            self.remember(key, entry, now)  # even if Redis is away: this process keeps it
            try:
                self.redis.set(key, pickle.dumps(entry), ex=self.ttl)
            except redis.RedisError:
                logger.warning("Page cache: Redis unavailable, memory tier only", exc_info=True)
        return [body]


def storable(status: str, headers: list[tuple[str, str]]) -> bool:
    if not status.startswith("200"):
        return False
    lowered = {k.lower(): v for k, v in headers}
    return (
        "set-cookie" not in lowered
        and "public" in lowered.get("cache-control", "")
        and "cookie" not in lowered.get("vary", "").lower()
    )


_clients: dict[str, redis.Redis] = {}


def redis_client(redis_url: str, timeout: float) -> redis.Redis:
    pool = CircuitBreakerConnectionPool.from_url(
        redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    return redis.Redis(connection_pool=pool)


def client_for(redis_url: str) -> redis.Redis:
    if redis_url not in _clients:
        _clients[redis_url] = redis_client(redis_url, timeout=1)
    return _clients[redis_url]


def version_of(host: str, redis_url: str) -> int:
    try:
        return int(client_for(redis_url).get(VERSION_KEY.format(host=host.lower())) or 0)
    except redis.RedisError:
        return -1  # a key no one else uses: fragments render fresh while Redis is away


def bump(hostnames, redis_url: str) -> None:
    """Invalidate every cached page of these hosts, in every process."""
    client = client_for(redis_url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for host in hostnames:
                pipe.incr(VERSION_KEY.format(host=host.lower()))
            pipe.execute()
    except redis.RedisError:
        logger.error("Could not invalidate the page cache of %s", hostnames, exc_info=True)
