"""What the mission search page shows around the engine's answer: the form's choices with their
facet counts, the result cards, the page links, the errors in the visitor's language.

Built from the engine's `Results` and the cached domains and activities: no query of its own.
"""

import datetime
import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from missions.models import Mission

from .missions import MAX_PAGE, PAGE_SIZE, RADII, Params, Results, SearchForm
from .taxonomy import taxonomy

FIELDS = list(SearchForm.base_fields)  # the parameters the URL keeps, in the form's order
# The parameters with a control of their own, in the page's order (lat, lng, page have none).
CONTROLS = ["q", "postal_code", "radius_km", "domain", "activity", "remote", "audience"]
CONTROLS += ["date_from", "date_to", "sort"]
FILTERS = ("domain", "activity", "remote", "audience", "date_from", "date_to")
SORT_LABELS = {
    "distance": _("Nearest first"),
    "relevance": _("Relevance"),
    "date": _("Soonest start date"),
}
# (field, error code) → what the page says; (field, None) for any other code of that field.
ERRORS = {
    ("q", None): _("Keywords: at most 512 characters."),
    ("lat", None): _("Your position could not be read: search around a postal code instead."),
    ("lng", None): _("Your position could not be read: search around a postal code instead."),
    ("radius_km", None): _("Choose a distance between 1 and 200 km."),
    ("page", None): _("This page does not exist: pages go from 1 to 500."),
    ("postal_code", "unknown"): _("This postal code is not known."),
    ("postal_code", None): _("Enter a postal code of 5 digits, e.g. 69001."),
    ("domain", None): _("Choose a domain from the list."),
    ("activity", None): _("Choose an activity from the list."),
    ("remote", None): _("Choose on site or remote."),
    ("date_to", "order"): _("The end date comes before the start date."),
    ("date_from", None): _("Enter a date, e.g. 2026-05-31."),
    ("date_to", None): _("Enter a date, e.g. 2026-05-31."),
    ("audience", None): _("Choose an audience from the list."),
    ("sort", None): _("Choose an order from the list."),
}
NUL = _("This search contains characters that cannot be searched for.")


@dataclass
class Choice:
    value: str
    label: str
    count: int | None = None  # None: not counted (degraded mode, or this filter is set)
    selected: bool = False


def messages(codes: dict) -> dict:
    """The page's message for each bad field, from the engine's error codes, in the order
    the fields appear on the page."""
    found = {}
    for name, code in sorted(codes.items(), key=lambda item: place_on_page(item[0])):
        if code == "nul":
            found[name] = NUL
        else:
            found[name] = ERRORS.get((name, code)) or ERRORS.get((name, None), NUL)
    return found


def place_on_page(name: str) -> int:
    return CONTROLS.index(name) if name in CONTROLS else len(CONTROLS)


def context(query, found: Results | None, params: Params | None, errors: dict) -> dict:
    """Everything the template needs. `query` is the request's GET; `params` and `found` are
    None when it is invalid (the form shows what was typed, without counts)."""
    values = {name: query.get(name, "").strip() for name in FIELDS}
    facets = found.facets if found else {}
    kept = [(name, values[name]) for name in FIELDS if values[name] and name != "page"]
    names = dict(taxonomy()["domain"])
    return {
        "values": values,
        "errors": errors,
        "hidden_errors": [name for name in errors if name not in CONTROLS],
        "has_position": bool(values["lat"] and values["lng"]) and "lat" not in errors,
        "without_position": "?" + urlencode([(k, v) for k, v in kept if k not in ("lat", "lng")]),
        "domains": domain_choices(values, facets),
        "activity_groups": activity_groups(values, facets),
        "remote_choices": remote_choices(values, facets),
        "audiences": audience_choices(values, facets),
        "radii": radius_choices(values),
        "sorts": sort_choices(params),
        "active_filters": sum(bool(values[name]) for name in FILTERS),
        "found": found,
        "results": [card(result, names) for result in found.results] if found else [],
        "pagination": pagination(found, kept) if found else None,
    }


def counted(facets: dict, dimension: str, values: dict, name: str | None = None):
    """Counts for a dimension, or None when not computed or when its own filter is set
    (the counts are for adding a filter to the current ones, not for changing it)."""
    if not facets or values[name or dimension]:
        return None
    return facets.get(dimension, {})


def domain_choices(values, facets) -> list[Choice]:
    counts = counted(facets, "domain", values)
    return [
        Choice(
            slug, name, None if counts is None else counts.get(slug, 0), slug == values["domain"]
        )
        for slug, name in taxonomy()["domain"]
    ]


def activity_groups(values, facets) -> list[tuple[str, list[Choice]]]:
    """Activities under their domain; once a domain is chosen, only its own."""
    counts = counted(facets, "activity", values)
    groups: dict[str, list[Choice]] = {slug: [] for slug, _name in taxonomy()["domain"]}
    for slug, name, domain in taxonomy()["activity"]:
        selected = slug == values["activity"]
        if values["domain"] and domain != values["domain"] and not selected:
            continue
        count = None if counts is None else counts.get(slug, 0)
        groups[domain].append(Choice(slug, name, count, selected))
    names = dict(taxonomy()["domain"])
    return [(names[domain], choices) for domain, choices in groups.items() if choices]


def typed(name: str, raw: str):
    """A parameter read as the search reads it, or None if it is not valid: the form keeps
    what is valid when another field is not."""
    try:
        return SearchForm.base_fields[name].clean(raw)
    except ValidationError:
        return None


def remote_choices(values, facets) -> list[Choice]:
    counts = counted(facets, "remote", values)
    remote = typed("remote", values["remote"])
    return [
        Choice("", _("All"), None, remote is None),
        Choice(
            "false",
            _("On site"),
            None if counts is None else counts.get("on_site", 0),
            remote is False,
        ),
        Choice(
            "true", _("Remote"), None if counts is None else counts.get("remote", 0), remote is True
        ),
    ]


def audience_choices(values, facets) -> list[Choice]:
    counts = counted(facets, "audience", values)
    return [
        Choice(
            value,
            label,
            None if counts is None else counts.get(value, 0),
            value == values["audience"],
        )
        for value, label in Mission.Audience.choices
    ]


def radius_choices(values) -> list[Choice]:
    """The usual distances, and the one in the URL if it is another."""
    current = typed("radius_km", values["radius_km"]) or 20
    radii = sorted({*RADII, current})
    return [Choice(f"{r:g}", f"{r:g} km", None, r == current) for r in radii]


def sort_choices(params) -> list[Choice]:
    """The orders this search can take; the default one is sent empty, so that it follows
    the next query (distance once a place is given...)."""
    if params is None:
        return []
    sorts = params.sorts()
    return [
        Choice("" if n == 0 else name, SORT_LABELS[name], None, name == params.order)
        for n, name in enumerate(sorts)
    ]


def card(result: dict, domains: dict) -> dict:
    """A result as a card shows it: its page, its domain's name, dates as dates."""
    try:
        url = reverse("mission_slug", kwargs={"pk": result["id"], "slug": result["slug"]})
    except (KeyError, NoReverseMatch):  # a result cached before slugs were: its short URL
        url = reverse("mission", kwargs={"pk": result["id"]})
    dates = {
        name: datetime.date.fromisoformat(result[name]) if result[name] else None
        for name in ("start_date", "end_date")
    }
    return {**result, **dates, "url": url, "domain_name": domains.get(result["domain"])}


def pagination(found: Results, kept: list) -> dict | None:
    """First, previous, numbers around the current page (1 … 4 5 [6] 7 8 … 40), next, last;
    links keep the whole query. In degraded mode there is no count: previous and next only."""
    current = found.page
    if found.count is None:
        last, has_next = None, len(found.results) == PAGE_SIZE and current < MAX_PAGE
    else:
        last = min(max(math.ceil(found.count / PAGE_SIZE), 1), MAX_PAGE)
        has_next = current < last
    if current == 1 and not has_next:
        return None

    def href(number: int) -> str:
        return "?" + urlencode(kept + ([("page", number)] if number > 1 else []))

    numbers = []
    if last is not None:
        shown = sorted({1, last, *range(max(current - 2, 1), min(current + 2, last) + 1)})
        for n, number in enumerate(shown):
            if n and number - shown[n - 1] > 1:
                numbers.append(None)  # a gap
            far = abs(number - current) > 1 and number not in (1, last)
            numbers.append({"number": number, "href": href(number), "far": far})
    return {
        "current": current,
        "first": href(1) if current > 1 else None,
        "previous": href(current - 1) if current > 1 else None,
        "next": href(current + 1) if has_next else None,
        "last": href(last) if last and current < last else None,
        "numbers": numbers,
    }
