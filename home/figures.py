"""The home page's live parts: key figures and highlighted missions, cached per site.

They are the page's only queries beyond the page itself; cached for a minute in Redis (and
kept, not recomputed, in degraded mode) so that a popular home page costs no counting.
"""

from django.core.cache import cache

from missions.models import Mission
from tenants.models import PortalSettings

FIGURES_TTL = 60


def live_counts(site) -> dict:
    key = f"home:counts:{site.pk}"
    counts = cache.get(key)
    if counts is None:
        if PortalSettings.cached_for_site(site).degraded_mode:
            return {}  # degraded: no counting; the page shows typed figures only
        from accounts.models import User
        from organisations.models import Organisation

        counts = {
            "volunteers": User.objects.filter(signup_site=site, is_active=True).count(),
            "missions": Mission.objects.public(site).count(),
            "organisations": Organisation.objects.filter(
                site=site, status=Organisation.Status.VALIDATED
            ).count(),
        }
        cache.set(key, counts, FIGURES_TTL)
    return counts


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
    key = f"home:missions:{site.pk}:{count}"
    missions = cache.get(key)
    if missions is None:
        if PortalSettings.cached_for_site(site).degraded_mode:
            return []
        missions = [
            {
                "title": m.title,
                "city": m.city,
                "organisation": m.organisation.name,
                "places": m.places,
            }
            for m in Mission.objects.public(site)
            .select_related("organisation")
            .order_by("start_date")[:count]
        ]
        cache.set(key, missions, FIGURES_TTL)
    return missions
