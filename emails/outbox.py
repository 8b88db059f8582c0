"""Writing to the outbox: the only way code in the portal asks for an email."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from wagtail.models import Site

from portal import bulk

from .dispatch import kick
from .models import OutboundEmail


def queue_email(
    *,
    to: str,
    template: str,
    idempotency_key: str,
    site: Site | None,
    language: str = "fr",
    context: dict | None = None,
    fresh: bool = False,
    not_before=None,
) -> OutboundEmail:
    """Record an email in the caller's transaction; it is sent after that transaction commits.

    Call it inside the transaction that saves the event (a signup, an application): if the
    event rolls back, so does the email. The idempotency key names the event (for example
    `signup-confirmation:42`); queueing the same key twice returns the first record.
    `not_before` holds the email back until then (a batched notice); workers claim only due rows.
    """
    if not idempotency_key.isascii():
        raise ValueError("idempotency_key must be ASCII (it travels in an email header)")
    email = OutboundEmail(
        to_email=to.strip(),
        template=template,
        idempotency_key=idempotency_key,
        site=site,
        language=language,
        context=context or {},
    )
    if not_before is not None:
        email.next_attempt_at = not_before
    if fresh:
        # The caller knows the key cannot exist yet (it names a row created in this same
        # transaction): skip the savepoint, two round trips less on the signup path.
        email.save(force_insert=True)
        transaction.on_commit(kick, robust=True)
        return email
    try:
        with transaction.atomic():  # savepoint: a duplicate must not break the caller's transaction
            email.save(force_insert=True)
    except IntegrityError:
        return OutboundEmail.objects.get(idempotency_key=idempotency_key)
    transaction.on_commit(kick, robust=True)
    return email


def queue_emails(rows: list[dict]) -> int:
    """Record many emails in the caller's transaction with one INSERT; a key already in the
    outbox is skipped (the event was queued before), so a replayed batch sends nothing twice.
    `rows`: dicts of to_email, template, idempotency_key, site_id, language and context (a
    batch builds no model instances, portal.bulk). Returns how many rows were new."""
    if not rows:
        return 0
    for row in rows:
        if not row["idempotency_key"].isascii():
            raise ValueError("idempotency_key must be ASCII (it travels in an email header)")
    if connection.vendor == "postgresql":
        new = len(
            bulk.insert(OutboundEmail, rows, conflict="ON CONFLICT DO NOTHING", returning="1")
        )
    else:  # the demo's SQLite
        keys = [row["idempotency_key"] for row in rows]
        before = set(
            OutboundEmail.objects.filter(idempotency_key__in=keys).values_list(
                "idempotency_key", flat=True
            )
        )
        OutboundEmail.objects.bulk_create(
            [OutboundEmail(**row) for row in rows], ignore_conflicts=True
        )
        new = len(set(keys) - before)
    transaction.on_commit(kick, robust=True)
    return new


def purge_finished(older_than_days: int | None = None, chunk: int = 5000) -> int:
    """Delete emails that are done with (sent, failed, suppressed) after the retention period.

    A row holds an address, a first name, sometimes a link: kept `EMAIL_RETENTION_DAYS` to
    answer "did you send it?" and to investigate delivery problems, then gone. Rows still
    pending are never deleted here."""
    days = older_than_days or settings.EMAIL_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    finished = (
        OutboundEmail.Status.SENT,
        OutboundEmail.Status.FAILED,
        OutboundEmail.Status.SUPPRESSED,
    )
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
