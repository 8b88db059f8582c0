"""The associations' daily digest: what waits for the team (applications to answer, missions
past their end date still open, drafts never submitted). One email per manager, organisation
and day, none when nothing waits; the moderators' side is moderation.digest."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from organisations.models import Organisation
from organisations.services import email_team
from portal import languages

from .models import Application, Mission

# A draft is recalled once after a week and once after a month, then left alone.
DRAFT_REMINDER_DAYS = (7, 30)
PENDING = Application.Status.PENDING


def _path(name: str, *args) -> str:
    """A dashboard link; every manager of the team gets the same email, in French paths."""
    return languages.reverse_in("fr", f"organisations:{name}", args)


def digest_for(organisation: Organisation, day) -> dict:
    """The digest's content for one organisation on `day` (empty lists: nothing to say)."""
    start_of_day = timezone.make_aware(datetime.combine(day, time.min))
    missions = organisation.missions.all()
    waiting = (
        missions.annotate(
            pending=Count(
                "applications",
                filter=Q(applications__status=PENDING, applications__created_at__lt=start_of_day),
            ),
            oldest=Min("applications__created_at", filter=Q(applications__status=PENDING)),
        )
        .filter(pending__gt=0)
        .order_by("oldest")
    )
    ended = missions.filter(status=Mission.Status.VALIDATED, end_date__lt=day).order_by("end_date")
    drafts = missions.filter(
        status=Mission.Status.DRAFT,
        created_at__date__in=[day - timedelta(days=n) for n in DRAFT_REMINDER_DAYS],
    ).order_by("created_at")
    return {
        "waiting": [
            {
                "title": m.title,
                "pending": m.pending,
                "days": (timezone.now() - m.oldest).days,
                "path": _path("applicants", organisation.pk, m.pk) + "?status=pending",
            }
            for m in waiting
        ],
        "ended": [
            {
                "title": m.title,
                "end_date": m.end_date.isoformat(),
                "path": _path("edit_mission", organisation.pk, m.pk),
            }
            for m in ended
        ],
        "drafts": [
            {"title": m.title, "path": _path("edit_mission", organisation.pk, m.pk)} for m in drafts
        ],
    }


def send(day=None) -> int:
    """Queue today's digests (keyed by the day: a second run sends nothing twice)."""
    day = day or timezone.localdate()
    sent = 0
    organisations = Organisation.objects.exclude(
        status__in=[Organisation.Status.REFUSED, Organisation.Status.SUSPENDED]
    ).select_related("site")
    for organisation in organisations.filter(missions__isnull=False).distinct():
        content = digest_for(organisation, day)
        if not any(content.values()):
            continue
        email_team(
            organisation,
            "team_digest",
            f"team-digest:{organisation.pk}:{day.isoformat()}",
            site=organisation.site,
            organisation=organisation.name,
            dashboard_path=_path("dashboard", organisation.pk),
            **content,
        )
        sent += 1
    return sent
