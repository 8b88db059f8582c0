import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import reminders
from .geocoding import GeocodingUnavailable, geocode_mission
from .services import close_ended, follow_up, remind

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(GeocodingUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
    ignore_result=True,
)
def geocode(mission_id: int) -> str:
    """After a mission's place changes: never in the request, retried while BAN is down."""
    return geocode_mission(mission_id)


@shared_task(ignore_result=True)
def close_ended_missions() -> int:
    return close_ended(timezone.localdate())


@shared_task(ignore_result=True)
def send_reminders() -> int:
    """The day before: accepted volunteers are reminded of their mission."""
    return remind(timezone.localdate() + timedelta(days=1))


@shared_task(ignore_result=True)
def send_followups() -> int:
    """The day after: "did it happen?" to accepted volunteers."""
    return follow_up(timezone.localdate() - timedelta(days=1))


@shared_task(ignore_result=True)
def send_team_digests() -> int:
    """Daily: what waits for each organisation's team (missions.reminders)."""
    return reminders.send()
