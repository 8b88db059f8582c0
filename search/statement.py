"""A mission search on PostgreSQL as one statement: the page of results and the facets.

Why hand-written SQL rather than the ORM (search.missions.queryset, kept for the embedded
SQLite): profiled on 100,000 missions, building and compiling the two ORM queries of a search
(the haversine expression tree, select_related, model instances) cost more Python time than
PostgreSQL spent answering them, and each query filtered the missions again. Here the matching
missions are found once (a MATERIALIZED CTE), the page is their top 20 by the order and the
facets are counted on them with GROUPING SETS, in one round trip; the rows come back as JSON.
The visibility rules are Mission.objects.public's (a test compares both paths' answers).

Around a place, the GiST index on `(ll_to_earth(latitude, longitude), search_vector)`
(search/migrations/0002, `cube` + `earthdistance`) answers the box around the circle, with
the words when there are some; then the exact haversine distance (the ORM path's formula,
Earth radius 6371 km) filters and sorts, in the same statement.
"""

from django.db import connection
from django.utils import timezone

from missions.models import Mission

PAGE_SIZE = 20  # search.missions.PAGE_SIZE (which imports this module)
EARTH_KM = 6371.0
ORDERS = {  # on the columns of `found`, prefixed by the alias of the rows sorted
    "date": "{t}start_date ASC NULLS LAST, {t}id",
    "distance": "{t}distance, {t}id",
    "relevance": "{t}rank DESC, {t}id",
}
HAVERSINE = f"""2 * {EARTH_KM} * asin(sqrt(
    power(sin((radians(m.latitude) - radians(%(lat)s)) / 2), 2)
    + cos(radians(%(lat)s)) * cos(radians(m.latitude))
      * power(sin((radians(m.longitude) - radians(%(lng)s)) / 2), 2)))"""
# earth_box takes a great-circle distance on earthdistance's sphere (earth(), 6378.168 km):
# scaled from ours so that the box holds every point of our circle.
BOX = (
    f"earth_box(ll_to_earth(%(lat)s, %(lng)s), %(radius_m)s * earth() / {EARTH_KM * 1000})"
    " @> ll_to_earth(m.latitude, m.longitude)"
)
# Facets per dimension: the GROUPING() bits say which set a row belongs to (1 = left out).
FACET_SETS = {0b0111: "domain", 0b1011: "activity", 0b1101: "remote", 0b1110: "audience"}


def matches(site, params, text_ids=None) -> tuple[str, dict]:
    """SELECT of the matching missions (id, facet columns, sort keys) and its parameters.

    `text_ids`: the missions an external search engine matched, best first (its relevance);
    else the text is PostgreSQL's full text search.
    """
    args = {
        "site": site.pk,
        "today": timezone.localdate(),  # as Mission.objects.public: not ended
        "validated": Mission.Status.VALIDATED,
    }
    # The organisation's status and the mission's portals are read from the mission row
    # (copies kept by PostgreSQL: search/migrations/0003), not probed row by row.
    where = [
        "m.status = %(validated)s",
        "m.organisation_validated",
        "(m.end_date IS NULL OR m.end_date >= %(today)s)",
        "(m.active_count < m.places OR m.waiting_list)",
        "%(site)s = ANY(m.listed_sites)",
    ]
    rank = "NULL::float"
    if params.q and text_ids is not None:
        args["ids"] = list(text_ids)
        where.append("m.id = ANY(%(ids)s::bigint[])")
        rank = "-array_position(%(ids)s::bigint[], m.id)"  # the engine's order, best first
    elif params.q:
        args["q"] = params.q
        where.append("m.search_vector @@ websearch_to_tsquery('french_unaccent', %(q)s)")
        if params.order == "relevance":  # the rank is computed only when it sorts
            rank = "ts_rank(m.search_vector, websearch_to_tsquery('french_unaccent', %(q)s))"
    distance = "NULL::float"
    if params.has_place:
        args.update(lat=params.lat, lng=params.lng, radius=params.radius_km)
        args["radius_m"] = params.radius_km * 1000
        distance = HAVERSINE
        where += ["NOT m.is_remote", BOX, f"{HAVERSINE} <= %(radius)s"]
    if params.remote is not None:
        args["remote"] = params.remote
        where.append("m.is_remote = %(remote)s")
    if params.domain:
        args["domain"] = params.domain
        where.append("m.domain_id IN (SELECT id FROM missions_domain WHERE slug = %(domain)s)")
    if params.activity:
        args["activity"] = params.activity
        where.append(
            "m.activity_id IN (SELECT id FROM missions_activity WHERE slug = %(activity)s)"
        )
    if params.audience:
        args["audience"] = params.audience
        where.append("m.audience = %(audience)s")
    if params.date_from:
        args["date_from"] = params.date_from
        where.append("(m.end_date IS NULL OR m.end_date >= %(date_from)s)")
    if params.date_to:
        args["date_to"] = params.date_to
        where.append("(m.start_date IS NULL OR m.start_date <= %(date_to)s)")
    sql = f"""SELECT m.id, m.domain_id, m.activity_id, m.is_remote, m.audience, m.start_date,
        {distance} AS distance, {rank} AS rank
        FROM missions_mission m
        WHERE {" AND ".join(where)}"""
    return sql, args


def statement(site, params, page=True, facets=True, text_ids=None) -> tuple[str, dict]:
    """One statement answering a search: a row with `page` (the page's results, JSON, in
    order) and `facets` (JSON rows: GROUPING() bits, domain slug, activity slug, remote,
    audience, count). Either can be left out: degraded mode counts nothing, and a search
    whose facets (or page) are cached computes only the other part."""
    sql, args = matches(site, params, text_ids)
    parts = []
    if page:
        args.update(limit=PAGE_SIZE, offset=(params.page - 1) * PAGE_SIZE)
        order = ORDERS[params.order]
        # Top-N of the matches by the order (no window function: it would sort them all).
        parts.append(f"""(SELECT coalesce(json_agg(json_build_array(
                m.id, m.slug, m.title, m.organisation_id, o.name, d.slug, a.slug, m.audience,
                m.is_remote, m.city, m.postal_code, m.latitude, m.longitude, p.distance,
                m.start_date, m.end_date, m.places, m.active_count, m.waiting_list
            ) ORDER BY {order.format(t="p.")}), '[]')
            FROM (SELECT * FROM found ORDER BY {order.format(t="")}
                  LIMIT %(limit)s OFFSET %(offset)s) p
            JOIN missions_mission m ON m.id = p.id
            JOIN organisations_organisation o ON o.id = m.organisation_id
            LEFT JOIN missions_domain d ON d.id = m.domain_id
            LEFT JOIN missions_activity a ON a.id = m.activity_id) AS page""")
    if facets:
        parts.append("""(SELECT coalesce(json_agg(json_build_array(f.sets, d.slug, a.slug,
                f.is_remote, f.audience, f.n)), '[]')
            FROM (SELECT GROUPING(domain_id, activity_id, is_remote, audience) sets,
                         domain_id, activity_id, is_remote, audience, count(*) n
                  FROM found
                  GROUP BY GROUPING SETS ((domain_id), (activity_id), (is_remote), (audience))
                 ) f
            LEFT JOIN missions_domain d ON d.id = f.domain_id
            LEFT JOIN missions_activity a ON a.id = f.activity_id) AS facets""")
    return f"WITH found AS MATERIALIZED ({sql})\nSELECT {', '.join(parts)}", args


def run(site, params, page=True, facets=True, text_ids=None) -> tuple[list | None, dict | None]:
    """(the page's results as search.missions.serialize writes them, the facet counts)."""
    sql, args = statement(site, params, page, facets, text_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        row = list(cursor.fetchone())
    rows = row.pop(0) if page else None
    counted = row.pop(0) if facets else None
    return (
        None if rows is None else [result(values) for values in rows],
        None if counted is None else facet_counts(counted),
    )


def result(values: list) -> dict:
    (pk, slug, title, organisation_id, organisation, domain, activity, audience, remote) = values[
        :9
    ]
    (city, postal_code, latitude, longitude, distance, start, end, places, active) = values[9:18]
    waiting = values[18]
    return {
        "id": pk,
        "slug": slug,
        "title": title,
        "organisation": {"id": organisation_id, "name": organisation},
        "domain": domain,
        "activity": activity,
        "audience": audience,
        "is_remote": remote,
        "city": city,
        "postal_code": postal_code,
        "latitude": latitude,
        "longitude": longitude,
        "distance_km": round(distance, 1) if distance is not None else None,
        "start_date": start,  # JSON already holds the ISO date
        "end_date": end,
        "places": places,
        "places_left": max(places - active, 0),
        "waiting_list": waiting,
    }


def facet_counts(rows: list) -> dict:
    """GROUPING SETS rows to {dimension: {value: count}}, as search.missions.facets: no entry
    for missions without a domain or activity."""
    counts = {name: {} for name in FACET_SETS.values()}
    for sets, domain, activity, remote, audience, n in rows:
        name = FACET_SETS[sets]
        value = {"domain": domain, "activity": activity, "audience": audience}.get(name)
        if name == "remote":
            value = "remote" if remote else "on_site"
        if value:
            counts[name][value] = n
    return counts
