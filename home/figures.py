"""The home page's live parts: key figures and highlighted missions, cached per site.

They are the page's only queries beyond the page itself; cached for a minute in Redis (and
kept, not recomputed, in degraded mode) so that a popular home page costs no counting.

Each process also remembers the last value it saw, with the moment it was computed: while the
cache Redis is away (reads are misses, portal.settings.base.redis_cache), a process serves that
copy until it is a minute old and then counts once, instead of counting on every request.
"""

import time

from django.core.cache import cache

from accounts.models import User
from missions.models import Mission
from organisations.models import Organisation
from tenants.models import PortalSettings

FIGURES_TTL = 60

# key -> (time.time() when computed, value): the last value this process saw.
_last_known: dict[str, tuple[float, object]] = {}


def remembered(key: str, site, compute, degraded_value, ttl: int = FIGURES_TTL):
    """The value under `key`: from this process while fresh (`ttl` seconds), else Redis,
    else `compute()`.

    In degraded mode nothing is computed: the last known value, however old, or
    `degraded_value`.
    """
    now = time.time()
    local = _last_known.get(key)
    if local is not None and now - local[0] < ttl:
        return local[1]
    stored = cache.get(key)
    if stored is None:
        if PortalSettings.cached_for_site(site).degraded_mode:
            return local[1] if local is not None else degraded_value
        stored = (now, compute())
        cache.set(key, stored, ttl)
    _last_known[key] = stored
    return stored[1]


def live_counts(site) -> dict:
    def count():
        return {
            "volunteers": User.objects.filter(signup_site=site, is_active=True).count(),
            "missions": Mission.objects.public(site).count(),
            "organisations": Organisation.objects.filter(
                site=site, status=Organisation.Status.VALIDATED
            ).count(),
        }

    # degraded and never counted: the page shows typed figures only
    return remembered(f"home:counts:{site.pk}", site, count, {})


def key_figures(site, blocks) -> list[dict]:
    counts = live_counts(site) if any(b.value["source"] for b in blocks) else {}
    figures = []
    for block in blocks:
        source = block.value["source"]
        value = counts.get(source) if source else block.value["value"]
        if value in (None, ""):
            continue
        if isinstance(value, int):
            value = f"{value:,}".replace(",", "\u202f")  # French thousands separator
        figures.append({"label": block.value["label"], "value": value})
    return figures


def open_missions(site, count: int) -> list:
    if not count:
        return []

    def highlighted():
        return [
            {
                "pk": m.pk,
                "slug": m.slug,
                "title": m.title,
                "city": m.city,
                "organisation": m.organisation.name,
                "places": m.places,
            }
            for m in Mission.objects.public(site)
            .select_related("organisation")
            .order_by("start_date")[:count]
        ]

    # The key names the shape: entries cached before missions had pages carry no pk.
    return remembered(f"home:open-missions:{site.pk}:{count}", site, highlighted, [])
