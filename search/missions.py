"""Finding public missions: full text, around a place, filters, facets; cached per portal.

One function, `search`, serves the search page and the partner API. On PostgreSQL the text
goes through the `french_unaccent` configuration (stemming, accents ignored) against a GIN index;
a place becomes a bounding box on the indexed latitude/longitude, then an exact distance.
"""

import datetime
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, F, FloatField, Q, Value, When
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from wagtail.search.backends import get_search_backend

from missions import postcodes
from missions.models import Activity, Domain, Mission
from tenants.models import PortalSettings

from . import index

PAGE_SIZE = 20
MAX_RADIUS_KM = 200
MAX_PAGE = 500
RESULTS_TTL = 60
EARTH_KM = 6371.0


class InvalidSearch(Exception):
    def __init__(self, fields: dict):
        super().__init__("invalid search")
        self.fields = fields


@dataclass
class Params:
    q: str = ""
    lat: float | None = None
    lng: float | None = None
    postal_code: str = ""
    radius_km: float = 20
    domain: str = ""
    activity: str = ""
    remote: bool | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    audience: str = ""
    page: int = 1

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lng is not None

    def key(self) -> str:
        return hashlib.sha1(
            json.dumps(asdict(self), default=str, sort_keys=True).encode()
        ).hexdigest()


def parse(raw) -> Params:
    """Query-string values to Params, or InvalidSearch naming every bad field (a 400)."""
    errors: dict[str, str] = {}
    params = Params()
    values = raw.lists() if hasattr(raw, "lists") else ((k, [v]) for k, v in raw.items())
    for name, given in values:  # PostgreSQL text cannot hold NUL: say so, do not fail on it
        if any("\x00" in str(value) for value in given):
            raise InvalidSearch({name: "contains a NUL character"})

    def number(name, low, high, cast=float):
        value = raw.get(name)
        if value in (None, ""):
            return None
        try:
            number = cast(value)
        except (TypeError, ValueError):
            errors[name] = "not a number"
            return None
        if not (low <= number <= high) or (isinstance(number, float) and math.isnan(number)):
            errors[name] = f"must be between {low} and {high}"
            return None
        return number

    q = " ".join(str(raw.get("q", "")).split())
    if len(q) > 512:
        errors["q"] = "at most 512 characters"
    params.q = q[:512]
    params.lat = number("lat", -90, 90)
    params.lng = number("lng", -180, 180)
    if (params.lat is None) != (params.lng is None) and "lat" not in errors and "lng" not in errors:
        errors["lat"] = "lat and lng go together"
    radius = number("radius_km", 1, MAX_RADIUS_KM)
    params.radius_km = radius if radius is not None else 20
    params.page = number("page", 1, MAX_PAGE, int) or 1
    postal_code = str(raw.get("postal_code", "")).strip()
    if postal_code:
        if not (len(postal_code) == 5 and postal_code.isdigit()):
            errors["postal_code"] = "a 5-digit postal code"
        elif not params.has_place:
            point = postcodes.coordinates(postal_code)
            if point is None:
                errors["postal_code"] = "unknown postal code"
            else:
                params.lat, params.lng = point
        params.postal_code = postal_code
    for name, model in (("domain", Domain), ("activity", Activity)):
        slug = str(raw.get(name, "")).strip()
        if slug and not model.objects.filter(slug=slug).exists():
            errors[name] = f"unknown {name}"
        setattr(params, name, slug)
    remote = str(raw.get("remote", "")).lower()
    if remote in ("true", "1", "yes"):
        params.remote = True
    elif remote in ("false", "0", "no"):
        params.remote = False
    elif remote:
        errors["remote"] = "true or false"
    for name in ("date_from", "date_to"):
        value = raw.get(name)
        if value:
            try:
                setattr(params, name, datetime.date.fromisoformat(str(value)))
            except ValueError:
                errors[name] = "a date, YYYY-MM-DD"
    audience = str(raw.get("audience", ""))
    if audience and audience not in Mission.Audience.values:
        errors["audience"] = f"one of {', '.join(Mission.Audience.values)}"
    params.audience = audience
    if params.date_from and params.date_to and params.date_to < params.date_from:
        errors["date_to"] = "before date_from"
    if errors:
        raise InvalidSearch(errors)
    return params


def distance_km(lat: float, lng: float):
    """Haversine distance from (lat, lng) to the mission, in SQL."""
    lat0, lng0 = Radians(Value(lat)), Radians(Value(lng))
    lat1, lng1 = Radians(F("latitude")), Radians(F("longitude"))
    a = Power(Sin((lat1 - lat0) / 2), 2) + Cos(lat0) * Cos(lat1) * Power(Sin((lng1 - lng0) / 2), 2)
    return Value(2 * EARTH_KM) * ASin(Sqrt(a), output_field=FloatField())


def queryset(site, params: Params):
    missions = Mission.objects.public(site)
    if params.q and settings.MISSION_SEARCH_BACKEND != "postgres":
        # Text in Wagtail's backend (Elasticsearch/OpenSearch), place and filters in SQL.
        ids = text_matches(params.q)
        missions, order = filtered(missions.filter(pk__in=ids), params)
        if not params.has_place:
            rank = Case(*[When(pk=pk, then=n) for n, pk in enumerate(ids)], default=len(ids))
            missions, order = missions.annotate(rank=rank), ["rank", "pk"]
        return missions.order_by(*order)
    order = ["start_date", "pk"]
    if params.q:
        if connection.vendor == "postgresql":
            query = SearchQuery(params.q, config="french_unaccent", search_type="websearch")
            missions = missions.filter(search_vector=query).annotate(
                rank=SearchRank(F("search_vector"), query)
            )
            order = ["-rank", "pk"]
        else:
            missions = missions.filter(
                Q(title__icontains=params.q) | Q(description__icontains=params.q)
            )
    missions, place_order = filtered(missions, params)
    return missions.order_by(*(place_order or order))


def filtered(missions, params: Params):
    """Place (bounding box on the indexed columns, then exact distance) and the filters."""
    order = None
    if params.has_place:
        dlat = params.radius_km / 111.0
        dlng = params.radius_km / (111.32 * max(math.cos(math.radians(params.lat)), 0.01))
        missions = (
            missions.filter(
                is_remote=False,
                latitude__range=(params.lat - dlat, params.lat + dlat),
                longitude__range=(params.lng - dlng, params.lng + dlng),
            )
            .annotate(distance=distance_km(params.lat, params.lng))
            .filter(distance__lte=params.radius_km)
        )
        order = ["distance", "pk"]
    if params.remote is not None:
        missions = missions.filter(is_remote=params.remote)
    if params.domain:
        missions = missions.filter(domain__slug=params.domain)
    if params.activity:
        missions = missions.filter(activity__slug=params.activity)
    if params.audience:
        missions = missions.filter(audience=params.audience)
    if params.date_from:
        missions = missions.filter(Q(end_date__isnull=True) | Q(end_date__gte=params.date_from))
    if params.date_to:
        missions = missions.filter(Q(start_date__isnull=True) | Q(start_date__lte=params.date_to))
    return missions, order


def text_matches(q: str, limit: int = 2000) -> list[int]:
    """Ids of the missions matching `q` in the configured Wagtail search backend, best first."""
    backend = get_search_backend(settings.MISSION_SEARCH_BACKEND)
    found = backend.search(q, Mission.objects.filter(status=Mission.Status.VALIDATED))
    return [mission.pk for mission in found[:limit]]


def facets(missions) -> dict:
    base = missions.order_by()
    return {
        "domain": dict(
            base.exclude(domain=None).values_list("domain__slug").annotate(n=Count("pk"))
        ),
        "activity": dict(
            base.exclude(activity=None).values_list("activity__slug").annotate(n=Count("pk"))
        ),
        "remote": {
            ("remote" if remote else "on_site"): n
            for remote, n in base.values_list("is_remote").annotate(n=Count("pk"))
        },
    }


def serialize(mission) -> dict:
    return {
        "id": mission.pk,
        "title": mission.title,
        "organisation": {"id": mission.organisation_id, "name": mission.organisation.name},
        "domain": mission.domain.slug if mission.domain_id else None,
        "activity": mission.activity.slug if mission.activity_id else None,
        "audience": mission.audience,
        "is_remote": mission.is_remote,
        "city": mission.city,
        "postal_code": mission.postal_code,
        "latitude": mission.latitude,
        "longitude": mission.longitude,
        "distance_km": round(mission.distance, 1)
        if getattr(mission, "distance", None) is not None
        else None,
        "start_date": mission.start_date.isoformat() if mission.start_date else None,
        "end_date": mission.end_date.isoformat() if mission.end_date else None,
        "places": mission.places,
        "places_left": mission.places_left,
        "waiting_list": mission.waiting_list,
    }


@dataclass
class Results:
    results: list = field(default_factory=list)
    count: int | None = 0
    page: int = 1
    facets: dict = field(default_factory=dict)
    degraded: bool = False
    cached: bool = False


def search(site, params: Params) -> Results:
    key = f"search:missions:{index.version()}:{site.pk}:{params.key()}"
    found = cache.get(key)  # a Redis outage is a miss (the cache alias ignores its errors)
    if found is not None:
        return Results(**{**found, "cached": True})
    missions = queryset(site, params).select_related("organisation", "domain", "activity")
    start = (params.page - 1) * PAGE_SIZE
    if PortalSettings.cached_for_site(site).degraded_mode:
        # Lighter: one page, no count, no facets; never an error.
        page = [serialize(m) for m in missions[start : start + PAGE_SIZE]]
        return Results(results=page, count=None, page=params.page, degraded=True)
    found = {
        "results": [serialize(m) for m in missions[start : start + PAGE_SIZE]],
        "count": missions.count(),
        "page": params.page,
        "facets": facets(queryset(site, params)),
        "degraded": False,
    }
    cache.set(key, found, RESULTS_TTL)
    return Results(**found)
