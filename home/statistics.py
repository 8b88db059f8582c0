"""The public statistics page: this portal's volunteers, missions and applications, per day
over the last 30 days and per département.

Counted for the portal answering the request only: volunteers who signed up on it (still
active), missions shown on it that were published (validated, or closed after running), and
applications to those missions. Six grouped queries, cached in Redis for STATS_TTL per portal
with the home page's last-known-value pattern (home.figures.remembered): the page itself is
public and CDN-cached like every public page.

Charts are HTML and CSS (home/static/home/statistics.css): bar lengths are classes in steps of
one percent, since the Content-Security-Policy forbids inline styles and scripts; the numbers
are also in real tables for screen readers.
"""

import datetime

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import User
from missions import postcodes
from missions.models import Application, Mission
from portal.cache import public_cache

from .figures import remembered

STATS_TTL = 300
DAYS = 30
PUBLISHED = (Mission.Status.VALIDATED, Mission.Status.CLOSED)
METRICS = ("volunteers", "missions", "applications")
REMOTE = "remote"  # missions without a place, and their applications


def querysets(site) -> dict:
    return {
        "volunteers": User.objects.filter(signup_site=site, is_active=True),
        "missions": Mission.objects.filter(sites=site, status__in=PUBLISHED),
        "applications": Application.objects.filter(mission__sites=site),
    }


def per_day(queryset, field: str, since: datetime.date) -> dict:
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    rows = (
        queryset.filter(**{f"{field}__gte": start})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def per_postal_code(queryset, field: str) -> dict:
    rows = queryset.values(field).annotate(n=Count("pk")).order_by()
    return {row[field]: row["n"] for row in rows}


def compute(site, today: datetime.date | None = None) -> dict:
    """Plain data (cached as is): the days oldest first, the départements in their usual
    order, the totals."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=DAYS - 1)
    sets = querysets(site)
    daily = {
        "volunteers": per_day(sets["volunteers"], "date_joined", since),
        "missions": per_day(sets["missions"], "created_at", since),
        "applications": per_day(sets["applications"], "created_at", since),
    }
    days = [since + datetime.timedelta(days=n) for n in range(DAYS)]
    by_code = {
        "volunteers": per_postal_code(sets["volunteers"], "postal_code"),
        "missions": per_postal_code(sets["missions"], "postal_code"),
        "applications": per_postal_code(sets["applications"], "mission__postal_code"),
    }
    places: dict[str, dict] = {}
    for metric, counts in by_code.items():
        for code, n in counts.items():
            where = postcodes.departement(code)
            if where is None:
                if metric == "volunteers":
                    continue  # an account without a postal code (made in the admin)
                where = REMOTE
            row = places.setdefault(where, dict.fromkeys(METRICS, 0))
            row[metric] += n
    located = sorted((c for c in places if c != REMOTE), key=postcodes.departement_order)
    return {
        "days": [{"day": day, **{m: daily[m].get(day, 0) for m in METRICS}} for day in days],
        "departements": [
            {"code": code, "name": postcodes.DEPARTEMENTS.get(code, ""), **places[code]}
            for code in located
        ],
        "remote": places.get(REMOTE),
        "totals": {m: sum(by_code[m].values()) for m in METRICS},
    }


def portal_statistics(site):
    """Cached per portal; None in degraded mode when nothing was ever computed."""
    return remembered(
        f"home:statistics:{site.pk}", site, lambda: compute(site), None, ttl=STATS_TTL
    )


def percent(value: int, largest: int) -> int:
    """A bar's length class (0-100); any non-zero value shows at least a sliver."""
    if not largest or not value:
        return 0
    return max(1, round(100 * value / largest))


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")  # French thousands separator, as home.figures


def cells(row: dict, largest: dict) -> list[dict]:
    return [{"n": row[m], "pct": percent(row[m], largest[m])} for m in METRICS]


def charts(data: dict) -> dict:
    """What the template draws: each value with its bar length (a percentage of the chart's
    largest value), the titles in the page's language."""
    titles = {
        "volunteers": _("Volunteers signed up"),
        "missions": _("Missions published"),
        "applications": _("Applications"),
    }
    days = data["days"]
    peak = {m: max(row[m] for row in days) for m in METRICS}
    rows = [*data["departements"], *([data["remote"]] if data["remote"] else [])]
    largest = {m: max((row[m] for row in rows), default=0) for m in METRICS}
    return {
        "totals": [{"title": titles[m], "value": thousands(data["totals"][m])} for m in METRICS],
        "daily": [
            {
                "title": titles[m],
                "peak": peak[m],
                "sum": sum(row[m] for row in days),
                "bars": [
                    {"day": row["day"], "n": row[m], "pct": percent(row[m], peak[m])}
                    for row in days
                ],
            }
            for m in METRICS
        ],
        "days": days,
        "first_day": days[0]["day"],
        "last_day": days[-1]["day"],
        "departements": [{**row, "cells": cells(row, largest)} for row in data["departements"]],
        "remote": {"cells": cells(data["remote"], largest)} if data["remote"] else None,
    }


@require_GET
@public_cache
def statistics(request):
    data = portal_statistics(request.site)
    context = {"stats": data, **(charts(data) if data else {})}
    return TemplateResponse(request, "home/statistics.html", context)
