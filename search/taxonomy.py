"""The domains and activities the search form lists and checks, cached: a search costs no
query for them. Staff edit them rarely; any change drops the cache (search/signals.py)."""

from django.core.cache import cache

from missions.models import Activity, Domain

KEY = "search:taxonomy"
TTL = 3600


def taxonomy() -> dict:
    """{"domain": [(slug, name)], "activity": [(slug, name, domain slug)]}, by name."""
    found = cache.get(KEY)  # a Redis outage is a miss: read from the database
    if found is None:
        found = {
            "domain": list(Domain.objects.values_list("slug", "name")),
            "activity": list(Activity.objects.values_list("slug", "name", "domain__slug")),
        }
        cache.set(KEY, found, TTL)
    return found


def slugs(kind: str) -> set[str]:
    return {row[0] for row in taxonomy()[kind]}


def forget() -> None:
    cache.delete(KEY)
