"""Visitors report missions; moderators suspend them (the team is told why) or dismiss."""

from django.db import transaction
from django.utils import timezone, translation

from missions import services as mission_services
from missions.models import Mission

from .models import Report


def report(mission: Mission, reason: str, message: str = "") -> Report:
    """A visitor's report. The caller has checked the mission is public here, and the rate."""
    return Report.objects.create(mission=mission, reason=reason, message=message.strip())


def _close(mission_id: int, status: str, moderator) -> int:
    """Every open report of the mission is settled by one decision."""
    return Report.objects.filter(mission_id=mission_id, status=Report.Status.OPEN).update(
        status=status, handled_at=timezone.now(), handled_by=moderator
    )


@transaction.atomic
def suspend(report: Report, moderator, message: str = "") -> Mission:
    """Take the reported mission off the portal (missions.services.move_mission: the row
    lock, the moderator's scope, the history and the email to the team, with the reason).
    Raises TransitionNotAllowed if the mission is not online or not theirs to moderate."""
    reason = message.strip()
    if not reason:
        with translation.override("fr"):  # the reason is stored as text, in French
            reason = str(Report.Reason(report.reason).label)
    mission = mission_services.move_mission(
        report.mission, Mission.Status.SUSPENDED, moderator, reason
    )
    _close(mission.pk, Report.Status.SUSPENDED, moderator)
    return mission


def dismiss(report: Report, moderator) -> int:
    return _close(report.mission_id, Report.Status.DISMISSED, moderator)
