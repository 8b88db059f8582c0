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
* Mission data (`data_paths`: the mission search API and pages) changes far more often than
  editors publish: their keys also carry the search index version (`search.index`, bumped
  after any change to a mission, an organisation or an application), read with the host's
  version in the same round trip and kept as long, so a cached search is served here, before
  Django, and is never older than `PAGE_CACHE_VERSION_TTL` after a change. These are the
  only `/api/` paths looked up (the same for every language: slugs, numbers, the missions'
  own text). A response that varies on the language is never stored.
* Redis away: the memory tier goes on (the last version seen for the host, pages kept
  `PAGE_CACHE_MEMORY_TTL` seconds), so each process renders a hot page once per interval
  instead of on every request; the pool fails fast meanwhile (portal.redis_pool).
"""

import hashlib
import logging
import pickle
import re
import time
from urllib.parse import parse_qsl, urlencode

import redis

from portal.redis_pool import connection_pool

logger = logging.getLogger(__name__)

VERSION_KEY = "pagecache:v:{host}"
ENTRY_KEY = "pagecache:e:{host}:{version}:{digest}"
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "msclkid", "xtor", "_ga"})
DATA = "\0data"  # the search index version's slot in `versions` (no hostname holds a NUL)
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
        data_paths=(),
        data_version_key: str | None = None,
    ):
        self.app = app
        self.data_paths = [re.compile(pattern) for pattern in data_paths]
        self.data_version_key = data_version_key
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

    def eligible(self, environ, data: bool) -> bool:
        return (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and self.session_marker not in environ.get("HTTP_COOKIE", "")
            and "HTTP_AUTHORIZATION" not in environ
            and (data or not environ.get("PATH_INFO", "").startswith(SKIP_PREFIXES))
        )

    def is_data_path(self, path: str) -> bool:
        return self.data_version_key is not None and any(p.match(path) for p in self.data_paths)

    def version(self, host: str, now: float, data: bool = False) -> str:
        """The host's version ("3"), and for mission data the index version too ("3.17"):
        from process memory within version_ttl, else one Redis round trip for both."""
        slots = [(host, VERSION_KEY.format(host=host))]
        if data:
            slots.append((DATA, self.data_version_key))
        stale = [(slot, key) for slot, key in slots if not self.fresh(slot, now)]
        if stale:
            try:
                values = self.redis.mget([key for _slot, key in stale])
            except redis.RedisError:
                logger.warning("Page cache: Redis unavailable, memory tier only", exc_info=True)
                # Keep the last version seen (-1: one only the memory tier uses) and ask Redis
                # again in version_ttl, not on every request.
                values = [
                    self.versions[slot][1] if slot in self.versions else -1 for slot, _ in stale
                ]
            for (slot, _key), value in zip(stale, values, strict=True):
                self.versions[slot] = (now + self.version_ttl, int(value or 0))
        return ".".join(str(self.versions[slot][1]) for slot, _key in slots)

    def fresh(self, slot: str, now: float) -> bool:
        cached = self.versions.get(slot)
        return cached is not None and cached[0] > now

    def normalised_query(self, query_string: str) -> tuple[str, bool]:
        """The query as the cache key sees it, and whether a response to it may be stored."""
        kept, storable = [], True
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            if name in self.query_params:
                kept.append((name, value))
            elif not (name.startswith(TRACKING_PREFIXES) or name in TRACKING_PARAMS):
                storable = False
        return urlencode(sorted(kept)), storable

    def key(self, host: str, path: str, query: str, now: float, data: bool = False) -> str:
        digest = hashlib.sha1(f"{path}?{query}".encode("utf-8", "surrogateescape")).hexdigest()
        return ENTRY_KEY.format(host=host, version=self.version(host, now, data), digest=digest)

    def __call__(self, environ, start_response):
        data = self.is_data_path(environ.get("PATH_INFO", ""))
        if not self.eligible(environ, data):
            return self.app(environ, start_response)
        host = environ.get("HTTP_HOST", "").split(":")[0].lower().rstrip(".")
        if not self.serves_host(host):
            return self.app(environ, start_response)
        now = time.monotonic()
        query, may_store = self.normalised_query(environ.get("QUERY_STRING", ""))
        key = self.key(host, environ.get("PATH_INFO", ""), query, now, data)
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
    """A public 200 without cookies, the same for every visitor and every language."""
    if not status.startswith("200"):
        return False
    lowered = {k.lower(): v for k, v in headers}
    vary = lowered.get("vary", "").lower()
    return (
        "set-cookie" not in lowered
        and "public" in lowered.get("cache-control", "")
        and "cookie" not in vary
        and "accept-language" not in vary
    )


_clients: dict[str, redis.Redis] = {}


def redis_client(redis_url: str, timeout: float) -> redis.Redis:
    pool = connection_pool(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
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
