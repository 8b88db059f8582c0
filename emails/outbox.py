"""Writing to the outbox: the only way code in the portal asks for an email."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from wagtail.models import Site

from .models import OutboundEmail

logger = logging.getLogger(__name__)


def queue_email(
    *,
    to: str,
    template: str,
    idempotency_key: str,
    site: Site | None,
    language: str = "fr",
    context: dict | None = None,
    fresh: bool = False,
) -> OutboundEmail:
    """Record an email in the caller's transaction; it is sent after that transaction commits.

    Call it inside the transaction that saves the event (a signup, an application): if the
    event rolls back, so does the email. The idempotency key names the event (for example
    `signup-confirmation:42`); queueing the same key twice returns the first record.
    """
    if not idempotency_key.isascii():
        raise ValueError("idempotency_key must be ASCII (it travels in an email header)")
    if fresh:
        # The caller knows the key cannot exist yet (it names a row created in this same
        # transaction): skip the savepoint, two round trips less on the signup path.
        email = OutboundEmail.objects.create(
            to_email=to.strip(), template=template, idempotency_key=idempotency_key,
            site=site, language=language, context=context or {},
        )  # fmt: skip
        transaction.on_commit(kick, robust=True)
        return email
    try:
        with transaction.atomic():  # savepoint: a duplicate must not break the caller's transaction
            email = OutboundEmail.objects.create(
                to_email=to.strip(),
                template=template,
                idempotency_key=idempotency_key,
                site=site,
                language=language,
                context=context or {},
            )
    except IntegrityError:
        return OutboundEmail.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(kick, robust=True)
    return email


KICK_KEY = "emails:outbox:kick"


def kick() -> None:
    """After a commit: make sure a drain task is queued, for the price of one Redis SET NX.

    During a spike, thousands of commits a second share the drain that is already queued
    (it deletes the key when it starts, then claims everything due), instead of publishing
    one Celery message each. A commit that lands after the drain started sets the key again
    and queues the next one, so nothing waits for the sweeper unless the broker is down.
    """
    from .tasks import drain_outbox

    # True: ours to queue; False: a drain is queued and has not started, it will see this
    # row; None: the cache Redis is away (django-redis IGNORE_EXCEPTIONS), so publish anyway.
    if cache.add(KICK_KEY, 1, timeout=5) is False:
        return
    if not publish(drain_outbox):
        cache.delete(KICK_KEY)


def enqueue(ids: list[int]) -> bool:
    """Hand ids to a worker. Never raises: if the broker is down, the sweeper sends them later."""
    from .tasks import send_outbox

    return publish(send_outbox, args=[ids])


BROKER_RETRY_SECONDS = 5.0
_broker = {"down_until": 0.0}  # per process


def publish(task, **options) -> bool:
    """Queue a task; False when the broker is away, and the sweeper sends the rows later.

    After a failure this process does not try the broker again for BROKER_RETRY_SECONDS:
    during an outage a signup costs no failed connection, only the insert it commits."""
    now = time.monotonic()
    if now < _broker["down_until"]:
        return False
    try:
        task.apply_async(retry=False, **options)
    except Exception:  # kombu raises transport-specific errors
        _broker["down_until"] = now + BROKER_RETRY_SECONDS
        logger.warning("Broker unreachable, outbox left to the sweeper", exc_info=True)
        return False
    return True


def purge_finished(older_than_days: int | None = None, chunk: int = 5000) -> int:
    """Delete emails that are done with (sent, failed, suppressed) after the retention period.

    A row holds an address, a first name, sometimes a link: kept `EMAIL_RETENTION_DAYS` to
    answer "did you send it?" and to investigate delivery problems, then gone. Rows still
    pending are never deleted here."""
    days = older_than_days or settings.EMAIL_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    finished = (
        OutboundEmail.Status.SENT, OutboundEmail.Status.FAILED, OutboundEmail.Status.SUPPRESSED,
    )  # fmt: skip
    total = 0
    while True:
        ids = list(
            OutboundEmail.objects.filter(status__in=finished, created_at__lt=cutoff).values_list(
                "pk", flat=True
            )[:chunk]
        )
        if not ids:
            return total
        total += OutboundEmail.objects.filter(pk__in=ids).delete()[0]
