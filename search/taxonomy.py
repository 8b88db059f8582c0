"""The domains and activities the search form lists and checks, cached: a search costs no
query for them. Staff edit them rarely; any change drops the cache (search/signals.py).

Both are translatable snippets: missions point to the rows in the default language (French),
which carry the slugs the facets filter on; a translation only gives the name shown in its
language (the same slug, never a second facet).
"""

from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from wagtail.models import Locale

from missions.models import Activity, Domain

KEY = "search:taxonomy"
TTL = 3600


def _key(language: str) -> str:
    return f"{KEY}:{language}"


def _names(model, locale: Locale) -> dict:
    return dict(model.objects.filter(locale=locale).values_list("translation_key", "name"))


def _load(language: str) -> dict:
    source = Locale.get_default()
    locale = Locale.objects.filter(language_code=language).first() or source
    domain_names, activity_names = _names(Domain, locale), _names(Activity, locale)
    domains = Domain.objects.filter(locale=source).values_list("slug", "translation_key", "name")
    activities = Activity.objects.filter(locale=source).values_list(
        "slug", "translation_key", "name", "domain__slug"
    )
    return {
        "domain": sorted(
            ((slug, domain_names.get(key, name)) for slug, key, name in domains),
            key=lambda row: row[1].casefold(),
        ),
        "activity": sorted(
            (
                (slug, activity_names.get(key, name), domain)
                for slug, key, name, domain in activities
            ),
            key=lambda row: row[1].casefold(),
        ),
    }


def taxonomy() -> dict:
    """{"domain": [(slug, name)], "activity": [(slug, name, domain slug)]}, by name, named in
    the active language."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    found = cache.get(_key(language))  # a Redis outage is a miss: read from the database
    if found is None:
        found = _load(language)
        cache.set(_key(language), found, TTL)
    return found


def slugs(kind: str) -> set[str]:
    return {row[0] for row in taxonomy()[kind]}


def forget() -> None:
    cache.delete_many([_key(code) for code, _name in settings.LANGUAGES])
