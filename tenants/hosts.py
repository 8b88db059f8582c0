"""Which site answers a hostname: the one lookup every public request makes.

The map {hostname: HostEntry} is built from Site and SiteAlias rows and kept in two tiers:
Redis (shared by every process, deleted after any change commits) and a per-process copy that
lives at most TENANT_HOST_MAP_TTL seconds. A hit costs a dict lookup and no SQL; a change is
seen by every web process within that TTL, without a restart.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from wagtail.models import Site

from .models import SiteAlias

CACHE_KEY = "tenants:hostmap:{version}"
VERSION_KEY = "tenants:hostmap:version"


@dataclass(frozen=True)
class HostEntry:
    site_id: int
    canonical_hostname: str
    is_alias: bool


_local = {"map": None, "expires": 0.0, "generation": 0}


def build_host_map() -> dict[str, HostEntry]:
    host_map = {
        site.hostname.lower(): HostEntry(site.pk, site.hostname.lower(), False)
        for site in Site.objects.all()
    }
    for alias in SiteAlias.objects.select_related("site"):
        # A live site's own hostname always wins over a stale alias row.
        host_map.setdefault(
            alias.hostname, HostEntry(alias.site_id, alias.site.hostname.lower(), True)
        )
    return host_map


def get_host_map() -> dict[str, HostEntry]:
    now = time.monotonic()
    if _local["map"] is not None and now < _local["expires"]:
        return _local["map"]
    # The version is read before the rows: a map built from rows read just before a change
    # commits is stored under the old version, which no one reads any more. Redis down: both
    # reads are misses (the cache alias ignores its errors) and the database answers.
    version = cache.get(VERSION_KEY, 0)
    host_map = cache.get(CACHE_KEY.format(version=version))
    if host_map is None:
        host_map = build_host_map()
        cache.set(CACHE_KEY.format(version=version), host_map, timeout=3600)
    _local["map"] = host_map
    _local["generation"] += 1
    _local["expires"] = now + settings.TENANT_HOST_MAP_TTL
    return host_map


def generation() -> int:
    """Bumped each time this process reloads the map: per-process Site copies key on it."""
    return _local["generation"]


def lookup(hostname: str) -> HostEntry | None:
    return get_host_map().get(hostname.lower().rstrip("."))


def invalidate() -> None:
    """Forget the map everywhere; other processes follow within TENANT_HOST_MAP_TTL."""
    _local["map"] = None
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet
        cache.set(VERSION_KEY, 1, timeout=None)
