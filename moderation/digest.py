"""The moderators' daily digest: what waits for them, in their scope (moderation.scope), one
email per moderator and portal and day, none when nothing waits."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.models import Site

from emails.outbox import queue_email
from missions.models import Application, Mission
from missions.states import DECISIONS as MISSION_DECISIONS
from missions.states import MISSION
from organisations.models import Organisation
from organisations.states import DECISIONS as ORGANISATION_DECISIONS
from organisations.states import ORGANISATION
from portal.workflow import MODERATOR
from tenants.models import PortalGroup

from . import scope
from .models import Report

# An application unanswered this long is the moderators' business too (the team is
# reminded daily before that).
STALE_APPLICATION_DAYS = 10


def waiting_for(moderator, site, now) -> dict:
    """The counts of one moderator's digest on one portal."""
    stale_before = now - timedelta(days=STALE_APPLICATION_DAYS)
    missions = scope.visible(Mission.objects.all(), moderator, sites=[site])
    return {
        "organisations": scope.visible(
            Organisation.objects.filter(
                status__in=ORGANISATION.sources(*ORGANISATION_DECISIONS, role=MODERATOR)
            ),
            moderator,
            sites=[site],
        ).count(),
        "missions": missions.filter(
            status__in=MISSION.sources(*MISSION_DECISIONS, role=MODERATOR)
        ).count(),
        "reports": scope.visible(
            Report.objects.filter(status=Report.Status.OPEN), moderator, sites=[site]
        ).count(),
        "stale_applications": Application.objects.filter(
            status=Application.Status.PENDING,
            created_at__lt=stale_before,
            mission__in=missions.values("pk"),
        ).count(),
    }


def send(day=None) -> int:
    """Queue today's digests; the key names the day, so a second run sends nothing twice."""
    now = timezone.now()
    day = day or timezone.localdate()
    sent = 0
    moderators = get_user_model().objects.filter(is_active=True)
    for role in PortalGroup.objects.filter(role=PortalGroup.Role.MODERATORS).select_related("site"):
        site: Site = role.site
        for moderator in moderators.filter(groups=role.group_id):
            counts = waiting_for(moderator, site, now)
            if not any(counts.values()):
                continue
            queue_email(
                to=moderator.email,
                template="moderator_digest",
                idempotency_key=f"moderator-digest:{site.pk}:{moderator.pk}:{day.isoformat()}",
                site=site,
                language=moderator.language,
                context={
                    "first_name": moderator.first_name,
                    "departements": sorted(scope.scopes(moderator).get(site.pk, ())),
                    **counts,
                },
            )
            sent += 1
    return sent
