import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import dispatch
from .models import OutboundEmail
from .outbox import purge_finished
from .sending import claim, deliver

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def send_outbox(ids: list[int]) -> int:
    """Send these records, and others already due, in as few API calls as possible.

    acks_late: a worker killed mid-task leaves the message to be delivered again; the claim
    (row lock + lease) makes a second delivery of the task harmless.
    """
    sent = 0
    for group in claim(ids):
        deliver(group)
        sent += len(group.records)
    return sent


@shared_task(acks_late=True, ignore_result=True)
def drain_outbox(max_seconds: float = 30.0) -> int:
    """Send everything due, batch after batch, then stop (see emails.dispatch.kick)."""
    dispatch.drain_started()
    sent, deadline = 0, time.monotonic() + max_seconds
    while True:
        groups = claim([])
        if not groups:
            return sent
        for group in groups:
            deliver(group)
            sent += len(group.records)
        if time.monotonic() > deadline:
            dispatch.publish(dispatch.DRAIN)  # long backlog: hand over to a fresh task
            return sent


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Re-enqueue what was committed but never sent: broker down at commit, worker killed."""
    now = timezone.now()
    grace = timedelta(seconds=settings.EMAIL_SWEEP_GRACE)
    due = OutboundEmail.objects.filter(
        status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now - grace
    ) | OutboundEmail.objects.filter(status=OutboundEmail.Status.SENDING, claimed_until__lt=now)
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:10_000])
    size = settings.EMAIL_BATCH_SIZE
    for start in range(0, len(ids), size):
        dispatch.enqueue(ids[start : start + size])
    if ids:
        logger.info("Sweeper re-enqueued %d outbox records", len(ids))
    return len(ids)


@shared_task(ignore_result=True)
def purge_old_emails() -> int:
    """Daily: the outbox's retention period (emails.outbox.purge_finished)."""
    return purge_finished()
