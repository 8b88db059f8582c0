"""Finding public missions: full text, around a place, filters, facets; cached per portal.

One function, `search`, serves the search page and the partner API, both reading their query
parameters with `parse` (a `SearchForm`). On PostgreSQL the text goes through the
`french_unaccent` configuration (stemming, accents ignored) against a GIN index; a place
becomes a bounding box on the indexed latitude/longitude, then an exact distance.
"""

import datetime
import hashlib
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from django import forms
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Count, F, FloatField, Q, Value, When
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from wagtail.search.backends import get_search_backend

from missions import postcodes
from missions.models import Mission
from tenants.models import PortalSettings

from . import index, statement, taxonomy

PAGE_SIZE = 20
MAX_RADIUS_KM = 200
MAX_PAGE = 500
RESULTS_TTL = 60
EARTH_KM = 6371.0
SORTS = ("distance", "relevance", "date")
RADII = (5, 10, 20, 50, 100, MAX_RADIUS_KM)  # the radii the page offers, in km
RADIUS_STEPS = (1, 2, *RADII)  # a radius is searched as the next of these (the API's small too)
GRID_DECIMALS = 2  # a point is searched around as rounded to 0.01° (1.1 km north-south)


class InvalidSearch(Exception):
    """`fields`: a message per bad field (the API's); `codes`: what went wrong with each, for
    the page to say it in the visitor's language."""

    def __init__(self, fields: dict, codes: dict | None = None):
        super().__init__("invalid search")
        self.fields = fields
        self.codes = codes or {}


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
    sort: str = ""
    page: int = 1

    def __post_init__(self):
        # The default order, or one this search cannot take, is no sort: one cache entry.
        if self.sort not in self.sorts()[1:]:
            self.sort = ""
        # Nearby visitors share answers (and cache entries): the point snapped to a grid of
        # about a kilometre (what the page's "Around me" sends already), the radius up to the
        # next step (never fewer missions than asked for).
        if self.has_place:
            self.lat, self.lng = round(self.lat, GRID_DECIMALS), round(self.lng, GRID_DECIMALS)
            self.radius_km = next((r for r in RADIUS_STEPS if r >= self.radius_km), self.radius_km)

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lng is not None

    def sorts(self) -> list[str]:
        """The orders this search can take, its default first: distance around a place, else
        relevance of the text, else the soonest start date."""
        return [
            *(["distance"] if self.has_place else []),
            *(["relevance"] if self.q else []),
            "date",
        ]

    @property
    def order(self) -> str:
        return self.sort or self.sorts()[0]

    def key(self) -> str:
        """The page's cache key: every parameter that changes the answer, normalised (see
        `normalised`), so that nearby visitors share one entry."""
        return digest(self.normalised())

    def facets_key(self) -> str:
        """The facet counts' cache key: the page's without the page number and the order,
        which do not change them (page 2, or another sort, reuses the counts of page 1)."""
        return digest({**self.normalised(), "page": None, "sort": None})

    def normalised(self) -> dict:
        """What the answer depends on: the text in lower case (the text search ignores case
        and accents), no postal code (it only gave the point), no radius without a place;
        the point and the radius were already snapped by __post_init__; the filters are
        single values, sorted by name by `digest`."""
        values = asdict(self)
        values.update(q=self.q.lower(), postal_code="")
        if not self.has_place:
            values["radius_km"] = None
        return values


def digest(values: dict) -> str:
    return hashlib.sha1(json.dumps(values, default=str, sort_keys=True).encode()).hexdigest()


class NumberField(forms.Field):
    """A number in [low, high], read by Python's ``float``/``int`` (not localised: "1e2" and
    " 3 " are numbers, "1,5" is not)."""

    def __init__(self, low, high, cast=float):
        super().__init__(required=False)
        self.low, self.high, self.cast = low, high, cast

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            number = self.cast(value)
        except (TypeError, ValueError):
            raise ValidationError("not a number", code="invalid") from None
        if not self.low <= number <= self.high:  # NaN fails this too
            raise ValidationError(f"must be between {self.low} and {self.high}", code="range")
        return number


class IsoDateField(forms.Field):
    def to_python(self, value):
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError("a date, YYYY-MM-DD", code="invalid") from None


class YesNoField(forms.Field):
    """true/1/yes or false/0/no, any case; absent is None (both)."""

    def to_python(self, value):
        word = "" if value is None else str(value).lower()
        if word in ("true", "1", "yes"):
            return True
        if word in ("false", "0", "no"):
            return False
        if word:
            raise ValidationError("true or false", code="invalid")
        return None


class SlugOfField(forms.CharField):
    """The slug of an existing domain or activity (`kind`), checked against the cached list."""

    def __init__(self, kind):
        super().__init__(required=False)
        self.kind = kind

    def validate(self, value):
        if value and value not in taxonomy.slugs(self.kind):
            raise ValidationError(f"unknown {self.kind}", code="unknown")


class SearchForm(forms.Form):
    """The query parameters of the search page and the API. Fields are in the order their
    errors are listed (the API's `fields`, the page's message)."""

    q = forms.CharField(required=False)
    lat = NumberField(-90, 90)
    lng = NumberField(-180, 180)
    radius_km = NumberField(1, MAX_RADIUS_KM)
    page = NumberField(1, MAX_PAGE, int)
    postal_code = forms.CharField(required=False)
    domain = SlugOfField("domain")
    activity = SlugOfField("activity")
    remote = YesNoField(required=False)
    date_from = IsoDateField(required=False)
    date_to = IsoDateField(required=False)
    audience = forms.ChoiceField(
        choices=Mission.Audience.choices,
        required=False,
        error_messages={"invalid_choice": f"one of {', '.join(Mission.Audience.values)}"},
    )
    sort = forms.ChoiceField(
        choices=[(name, name) for name in SORTS],
        required=False,
        error_messages={"invalid_choice": f"one of {', '.join(SORTS)}"},
    )

    place = None  # (lat, lng): the centre of the postal code, when it gives the place

    def clean_q(self):
        q = " ".join(self.cleaned_data["q"].split())
        if len(q) > 512:
            raise ValidationError("at most 512 characters", code="max_length")
        return q

    def clean_lng(self):
        # Here, not in clean(): the error on lat is listed before those of the later fields.
        lng = self.cleaned_data["lng"]
        if "lat" not in self.errors and (self.cleaned_data.get("lat") is None) != (lng is None):
            self.add_error("lat", ValidationError("lat and lng go together", code="pair"))
        return lng

    def clean_postal_code(self):
        try:
            code = postcodes.clean(self.cleaned_data["postal_code"])
        except ValidationError:
            raise ValidationError("a 5-digit postal code", code="invalid") from None
        has_place = None not in (self.cleaned_data.get("lat"), self.cleaned_data.get("lng"))
        if code and not has_place:
            self.place = postcodes.centre(code)
            if self.place is None:
                raise ValidationError("unknown postal code", code="unknown")
        return code

    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", ValidationError("before date_from", code="order"))
        return data

    def params(self) -> Params:
        data = self.cleaned_data
        lat, lng = self.place or (data["lat"], data["lng"])
        radius_km = data["radius_km"] if data["radius_km"] is not None else 20
        fields = {"lat": lat, "lng": lng, "radius_km": radius_km, "page": data["page"] or 1}
        return Params(**{**data, **fields})


def parse(raw) -> Params:
    """Query-string values to Params, or InvalidSearch naming every bad field (a 400)."""
    values = raw.lists() if hasattr(raw, "lists") else ((k, [v]) for k, v in raw.items())
    for name, given in values:  # PostgreSQL text cannot hold NUL: say so, do not fail on it
        if any("\x00" in str(value) for value in given):
            raise InvalidSearch({name: "contains a NUL character"}, {name: "nul"})
    form = SearchForm(raw)
    if not form.is_valid():
        raise InvalidSearch(
            {name: str(errors[0]) for name, errors in form.errors.items()},
            {name: errors[0].code for name, errors in form.errors.as_data().items()},
        )
    return form.params()


def distance_km(lat: float, lng: float):
    """Haversine distance from (lat, lng) to the mission, in SQL."""
    lat0, lng0 = Radians(Value(lat)), Radians(Value(lng))
    lat1, lng1 = Radians(F("latitude")), Radians(F("longitude"))
    a = Power(Sin((lat1 - lat0) / 2), 2) + Cos(lat0) * Cos(lat1) * Power(Sin((lng1 - lng0) / 2), 2)
    return Value(2 * EARTH_KM) * ASin(Sqrt(a), output_field=FloatField())


def queryset(site, params: Params):
    missions = Mission.objects.public(site)
    orders = {"date": ["start_date", "pk"], "distance": ["distance", "pk"]}
    ranked = params.order == "relevance"  # the rank is computed only when it sorts
    if params.q and settings.MISSION_SEARCH_BACKEND != "postgres":
        # Text in Wagtail's backend (Elasticsearch/OpenSearch), place and filters in SQL.
        ids = text_matches(params.q)
        missions = missions.filter(pk__in=ids)
        if ranked:
            rank = Case(*[When(pk=pk, then=n) for n, pk in enumerate(ids)], default=len(ids))
            missions, orders["relevance"] = missions.annotate(rank=rank), ["rank", "pk"]
    elif params.q and connection.vendor == "postgresql":
        query = SearchQuery(params.q, config="french_unaccent", search_type="websearch")
        missions = missions.filter(search_vector=query)
        if ranked:
            missions = missions.annotate(rank=SearchRank(F("search_vector"), query))
            orders["relevance"] = ["-rank", "pk"]
    elif params.q:  # the embedded SQLite: no rank, by date
        missions = missions.filter(
            Q(title__icontains=params.q) | Q(description__icontains=params.q)
        )
    return filtered(missions, params).order_by(*orders.get(params.order, orders["date"]))


def filtered(missions, params: Params):
    """Place (bounding box on the indexed columns, then exact distance) and the filters."""
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
    return missions


def text_matches(q: str, limit: int = 2000) -> list[int]:
    """Ids of the missions matching `q` in the configured Wagtail search backend, best first."""
    backend = get_search_backend(settings.MISSION_SEARCH_BACKEND)
    found = backend.search(q, Mission.objects.filter(status=Mission.Status.VALIDATED))
    return [mission.pk for mission in found[:limit]]


def facets(missions) -> dict:
    """Results per domain, activity, remote/on site and audience, from one GROUP BY over the
    results (a row per combination met: a few hundred at most), summed here."""
    counts = {name: Counter() for name in ("domain", "activity", "remote", "audience")}
    rows = missions.order_by().values_list(
        "domain__slug", "activity__slug", "is_remote", "audience"
    )
    for domain, activity, remote, audience, n in rows.annotate(n=Count("pk")):
        if domain:
            counts["domain"][domain] += n
        if activity:
            counts["activity"][activity] += n
        counts["remote"]["remote" if remote else "on_site"] += n
        counts["audience"][audience] += n
    return {name: dict(counter) for name, counter in counts.items()}


def serialize(mission) -> dict:
    return {
        "id": mission.pk,
        "slug": mission.slug,
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
    """The page of results and the facet counts, each cached (one Redis round trip for both):
    the facets under a key without the page and the order, so paging and sorting reuse them.
    A miss computes only what is missing, in one statement on PostgreSQL."""
    prefix = f"search:missions:{index.version()}:{site.pk}"
    page_key, facets_key = f"{prefix}:page:{params.key()}", f"{prefix}:facets:{params.facets_key()}"
    cached = cache.get_many([page_key, facets_key])  # a Redis outage is a miss
    page, counted = cached.get(page_key), cached.get(facets_key)
    if page is not None and counted is not None:
        return Results(**page, **counted, page=params.page, cached=True)
    if PortalSettings.cached_for_site(site).degraded_mode:
        # Cached results as usual; otherwise lighter: one page, no count, no facets.
        cached = page is not None
        if not cached:
            page = {"results": answer(site, params, with_facets=False)[0]}
        return Results(**page, count=None, page=params.page, degraded=True, cached=cached)
    results, facet_counts = answer(site, params, page is None, counted is None)
    fresh = {}
    if page is None:
        page = fresh[page_key] = {"results": results}
    if counted is None:  # each result is remote or on site
        counted = {"facets": facet_counts, "count": sum(facet_counts["remote"].values())}
        fresh[facets_key] = counted
    cache.set_many(fresh, RESULTS_TTL)
    return Results(**page, **counted, page=params.page, cached=not fresh)


def answer(site, params: Params, with_page=True, with_facets=True):
    """(the page of results, the facet counts), each None when not asked for."""
    if connection.vendor == "postgresql":
        text_ids = None
        if params.q and settings.MISSION_SEARCH_BACKEND != "postgres":
            text_ids = text_matches(params.q)  # the text from Wagtail's backend, the rest in SQL
        return statement.run(site, params, with_page, with_facets, text_ids)
    # The embedded SQLite (make demo): the ORM query, twice.
    missions = queryset(site, params).select_related("organisation", "domain", "activity")
    start = (params.page - 1) * PAGE_SIZE
    return (
        [serialize(m) for m in missions[start : start + PAGE_SIZE]] if with_page else None,
        facets(missions) if with_facets else None,
    )
