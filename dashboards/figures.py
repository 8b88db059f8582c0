"""What the staff dashboards draw: per-day counts over the last DAYS days for one portal (or
a referent's départements of it), and the outbox's state.

Cached for TTL seconds: the admin's home page is opened often and each figure is an
aggregate over a month of rows. A Redis outage is a miss (the cache ignores its errors).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Min, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from emails.models import OutboundEmail
from missions.models import Application
from moderation.scope import in_departements

DAYS = 30
TTL = 300
KEY = "dashboards:v1"

# The places that put a row in a département (moderation.scope's rule: first non-blank).
USER_PLACE = ("postal_code",)
APPLICATION_PLACE = ("mission__postal_code", "mission__organisation__postal_code")


@dataclass(frozen=True)
class Series:
    name: str  # signups, confirmations, applications, emails, failures
    points: tuple[tuple[date, int], ...]  # one per day, oldest first

    @property
    def total(self) -> int:
        return sum(n for _day, n in self.points)


def last_days(today: date | None = None) -> list[date]:
    today = today or timezone.localdate()
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def per_day(queryset: QuerySet, field: str, days: list[date]) -> tuple[tuple[date, int], ...]:
    """Rows of `queryset` counted by the local day of `field`, zero on days with none."""
    since = timezone.make_aware(datetime.combine(days[0], time.min))
    counts = dict(
        queryset.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .order_by()
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    return tuple((day, counts.get(day, 0)) for day in days)


def _portal_series(site_id: int, departements: frozenset[str], days: list[date]) -> list[Series]:
    users = User.objects.filter(signup_site_id=site_id)
    applications = Application.objects.filter(mission__sites=site_id)
    if departements:
        users = users.filter(in_departements(departements, USER_PLACE))
        applications = applications.filter(in_departements(departements, APPLICATION_PLACE))
    series = [
        Series("signups", per_day(users, "date_joined", days)),
        Series("confirmations", per_day(users, "email_confirmed_at", days)),
        Series("applications", per_day(applications, "created_at", days)),
    ]
    if not departements:  # an email has no département: the portal's figure only
        emails = OutboundEmail.objects.filter(site_id=site_id)
        sent = emails.filter(status=OutboundEmail.Status.SENT)
        failed = emails.filter(status=OutboundEmail.Status.FAILED)
        series += [
            Series("emails", per_day(sent, "sent_at", days)),
            Series("failures", per_day(failed, "created_at", days)),
        ]
    return series


def portal_series(site_id: int, departements=()) -> list[Series]:
    """The portal's series (a referent's départements only, if given), cached per day."""
    departements = frozenset(departements)
    days = last_days()
    key = f"{KEY}:portal:{site_id}:{','.join(sorted(departements))}:{days[-1].isoformat()}"
    found = cache.get(key)
    if found is None:
        found = _portal_series(site_id, departements, days)
        cache.set(key, found, TTL)
    return found


def outbox_state() -> dict:
    """Every portal's outbox: emails waiting, failed over the last DAYS days, the oldest
    waiting one's age in minutes (a stuck worker shows here first)."""
    found = cache.get(f"{KEY}:outbox")
    if found is None:
        waiting = OutboundEmail.objects.filter(
            status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING]
        )
        since = timezone.now() - timedelta(days=DAYS)
        oldest = waiting.aggregate(oldest=Min("created_at"))["oldest"]
        found = {
            "backlog": waiting.count(),
            "failed": OutboundEmail.objects.filter(
                status=OutboundEmail.Status.FAILED, created_at__gte=since
            ).count(),
            "oldest_minutes": int((timezone.now() - oldest).total_seconds() // 60)
            if oldest
            else None,
        }
        cache.set(f"{KEY}:outbox", found, 60)  # the backlog moves faster than daily counts
    return found
