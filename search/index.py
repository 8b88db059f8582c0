"""The missions' full-text vectors: title (A), organisation (B), description (C), French."""

from django.core.cache import cache
from django.db import connection

VECTOR_SQL = """
UPDATE missions_mission m SET search_vector =
    setweight(to_tsvector('french_unaccent', coalesce(m.title, '')), 'A')
 || setweight(to_tsvector('french_unaccent', coalesce(o.name, '')), 'B')
 || setweight(to_tsvector('french_unaccent',
        regexp_replace(coalesce(m.description, ''), '<[^>]+>', ' ', 'g')), 'C')
FROM organisations_organisation o
WHERE o.id = m.organisation_id
"""
VERSION_KEY = "search:missions:version"


def update_vectors(mission_ids=None, organisation_id=None) -> None:
    if connection.vendor != "postgresql":
        return  # the embedded SQLite searches with LIKE instead
    with connection.cursor() as cursor:
        if mission_ids is not None:
            cursor.execute(VECTOR_SQL + " AND m.id = ANY(%s)", [list(mission_ids)])
        elif organisation_id is not None:
            cursor.execute(VECTOR_SQL + " AND o.id = %s", [organisation_id])
        else:
            cursor.execute(VECTOR_SQL)


def version() -> int:
    return cache.get(VERSION_KEY, 0)  # the cache alias turns a Redis outage into a miss


def bump() -> None:
    """Any change to missions, organisations or places: cached searches are stale."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet
        cache.set(VERSION_KEY, 1, None)
