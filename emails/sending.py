"""Claiming, rendering and sending outbox records; what a worker does with a batch of ids."""

import email.utils
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from anymail.exceptions import AnymailError, AnymailRequestsAPIError
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.template import Context
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation

from portal import languages
from tenants.models import PortalSettings
from tenants.portals import public_base_url

from . import dispatch
from .models import OutboundEmail, SuppressedAddress

logger = logging.getLogger(__name__)
Status = OutboundEmail.Status


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


@dataclass
class Group:
    """Records sent in one API call: same sender (site), distinct recipients."""

    request_key: uuid.UUID
    records: list[OutboundEmail] = field(default_factory=list)


def due_filter(now):
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def claim(ids: list[int], batch_size: int | None = None) -> list[Group]:
    """Lock due records (ours first, then others waiting) and mark them as being sent.

    `skip_locked` lets two workers claim at the same instant without waiting on or taking
    each other's rows; the lease (claimed_until) hands a record back to the sweeper if its
    worker dies. Records whose previous request has an unknown outcome keep their Brevo
    idempotency key and travel together again, so Brevo answers instead of sending twice.
    """
    batch_size = batch_size or settings.EMAIL_BATCH_SIZE
    now = timezone.now()
    with transaction.atomic():
        base = OutboundEmail.objects.select_for_update(skip_locked=True).filter(due_filter(now))
        records = list(base.filter(pk__in=ids)[:batch_size])
        room = batch_size - len(records)
        if room > 0:
            records += list(
                base.filter(status=Status.PENDING)
                .exclude(pk__in=ids)
                .order_by("next_attempt_at")[:room]
            )
        if not records:
            return []
        # Case-insensitive both ways: Brevo reports addresses in whatever case it was given.
        suppressed = set(
            SuppressedAddress.objects.annotate(address=Lower("email"))
            .filter(address__in={r.to_email.lower() for r in records})
            .values_list("address", flat=True)
        )
        sendable = []
        for record in records:
            if record.to_email.lower() in suppressed:
                record.status = Status.SUPPRESSED
                record.last_error = "Address marked undeliverable (hard bounce or complaint)."
                record.claimed_until = None
            else:
                sendable.append(record)
        groups = partition(sendable)
        lease = now + timedelta(seconds=settings.EMAIL_LEASE_SECONDS)
        for group in groups:
            for record in group.records:
                record.status = Status.SENDING
                record.claimed_until = lease
                record.attempts += 1
                record.request_key = group.request_key
        OutboundEmail.objects.bulk_update(
            records, ["status", "claimed_until", "attempts", "request_key", "last_error"]
        )
    return groups


def partition(records: list[OutboundEmail]) -> list[Group]:
    replays: dict[uuid.UUID, Group] = {}
    fresh: list[tuple[int | None, Group]] = []
    groups: list[Group] = []
    for record in records:
        unknown_outcome = record.status == Status.SENDING or record.reuse_request_key
        if unknown_outcome and record.request_key:
            group = replays.get(record.request_key)
            if group is None:
                group = replays[record.request_key] = Group(record.request_key)
                groups.append(group)
            group.records.append(record)
            continue
        email_lower = record.to_email.lower()
        for site_id, group in fresh:
            if site_id == record.site_id and all(
                r.to_email.lower() != email_lower for r in group.records
            ):
                group.records.append(record)
                break
        else:
            group = Group(uuid.uuid4(), [record])
            fresh.append((record.site_id, group))
            groups.append(group)
    return groups


def render(record: OutboundEmail) -> Rendered:
    """Render at send time, so links follow the tenant's current public domain."""
    site = record.site
    language = languages.supported(record.language)
    context = {
        **record.context,
        "site": site,
        "site_name": site.site_name if site else "",
        "base_url": public_base_url(site) if site else "",
        "language": language,
        "to_email": record.to_email,
    }
    with translation.override(language):

        def part(name):
            candidates = [f"emails/{record.template}/{language}/{name}"]
            candidates.append(f"emails/{record.template}/fr/{name}")
            template = select_template(candidates)
            if name.endswith(".txt"):  # plain text: "L'Épicerie", not "L&#x27;Épicerie"
                return template.template.render(Context(context, autoescape=False))
            return template.render(context)

        subject = " ".join(part("subject.txt").split())
        text = part("body.txt")
        html = render_to_string(
            "emails/layout.html", {**context, "subject": subject, "body": part("body.html")}
        )
    return Rendered(subject=subject, text=text, html=html)


def sender_for(site) -> tuple[str, list[str]]:
    name, address = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    reply_to = []
    if site is not None:
        portal = PortalSettings.for_site(site)
        name = portal.sender_name or site.site_name or name
        if portal.reply_to:
            reply_to = [portal.reply_to]
    return email.utils.formataddr((name, address)), reply_to


def deliver(group: Group) -> None:
    """Send one group (one API call when the backend can batch) and record the outcome."""
    rendered: list[tuple[OutboundEmail, Rendered]] = []
    for record in group.records:
        try:
            rendered.append((record, render(record)))
        except Exception as exc:  # a broken template must not block the others
            logger.exception("Cannot render outbox %s", record.pk)
            finish_failed([record], f"Rendering failed: {exc!r}")
    if not rendered:
        return
    connection = get_connection()
    from_email, reply_to = sender_for(rendered[0][0].site)
    if getattr(connection, "supports_versions", False) and len(rendered) > 1:
        send_batch(connection, group.request_key, rendered, from_email, reply_to)
    else:
        for record, content in rendered:
            send_one(connection, group.request_key, record, content, from_email, reply_to)


def is_refused(exc: Exception) -> bool:
    """Brevo refused the request itself (a 4xx that no retry will change)."""
    return isinstance(exc, AnymailRequestsAPIError) and exc.status_code in (400, 422)


def send_one(connection, request_key, record, content, from_email, reply_to):
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        from_email=from_email,
        to=[record.to_email],
        reply_to=reply_to,
        headers={"X-Idempotency-Key": record.idempotency_key},
        connection=connection,
    )
    message.attach_alternative(content.html, "text/html")
    if getattr(connection, "supports_versions", False):
        message.extra_headers["idempotencyKey"] = str(request_key)
    try:
        message.send()
    except Exception as exc:
        handle_error([record], exc)
        return
    status = getattr(message, "anymail_status", None)
    message_id = ""
    if status is not None and status.recipients:
        message_id = status.recipients[record.to_email].message_id or ""
    finish_sent([(record, message_id)])


def send_batch(connection, request_key, rendered, from_email, reply_to):
    first = rendered[0][1]
    message = AnymailMessage(
        subject=first.subject,
        body=first.text,
        from_email=from_email,
        to=[record.to_email for record, _ in rendered],
        reply_to=reply_to,
        connection=connection,
    )
    message.attach_alternative(first.html, "text/html")
    message.extra_headers = {"idempotencyKey": str(request_key)}
    message.merge_headers = {
        record.to_email: {"X-Idempotency-Key": record.idempotency_key} for record, _ in rendered
    }
    message.portal_versions = [
        {"subject": c.subject, "textContent": c.text, "htmlContent": c.html} for _, c in rendered
    ]
    records = [record for record, _ in rendered]
    try:
        message.send()
    except Exception as exc:
        if is_refused(exc):
            # Brevo refuses a whole batch for one bad address: bisect to isolate it, so the
            # others leave now and the bad one fails alone (about 2·log2(n) extra calls).
            middle = len(rendered) // 2
            for part in (rendered[:middle], rendered[middle:]):
                key = rekey([record for record, _ in part])
                if len(part) == 1:
                    send_one(connection, key, *part[0], from_email, reply_to)
                else:
                    send_batch(connection, key, part, from_email, reply_to)
            return
        handle_error(records, exc)
        return
    recipients = message.anymail_status.recipients
    finish_sent([(r, recipients[r.to_email].message_id or "") for r in records])


def rekey(records: list[OutboundEmail]) -> uuid.UUID:
    """A new Brevo idempotency key for a sub-batch, stored before the call: if its outcome is
    unknown (timeout), the retry presents the key Brevo saw, not the parent batch's."""
    key = uuid.uuid4()
    for record in records:
        record.request_key = key
    OutboundEmail.objects.bulk_update(records, ["request_key"])
    return key


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, so a recovering Brevo is not hit by a synchronized wave."""
    base = settings.EMAIL_RETRY_BASE_DELAY * (2 ** max(attempts - 1, 0))
    delay = min(base, settings.EMAIL_RETRY_MAX_DELAY) * random.uniform(0.5, 1.0)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


def handle_error(records: list[OutboundEmail], exc: Exception) -> None:
    if isinstance(exc, AnymailRequestsAPIError):
        status = exc.status_code
        error = f"HTTP {status}: {exc}" if status else f"No answer: {exc}"
        if status is None:
            # Timeout or broken connection: Brevo may have sent it. Retry with the same key.
            return finish_retry(records, error, same_request_key=True)
        if status == 429 or status >= 500 or status in (401, 403, 408):
            retry_after = None
            if exc.response is not None:
                try:
                    retry_after = float(exc.response.headers.get("Retry-After", ""))
                except ValueError:
                    retry_after = None
            return finish_retry(records, error, retry_after=retry_after)
        return finish_failed(records, error)
    if isinstance(exc, AnymailError):
        return finish_failed(records, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, OSError):  # SMTP or console backends in development
        return finish_retry(records, f"{type(exc).__name__}: {exc}", same_request_key=True)
    logger.exception("Unexpected error sending outbox %s", [r.pk for r in records])
    return finish_retry(records, f"{type(exc).__name__}: {exc}")


def held(records: list[OutboundEmail]) -> list[OutboundEmail]:
    """The records this worker still holds, locked: still being sent under its own claim.

    A worker slower than its lease (EMAIL_LEASE_SECONDS) has lost the records to the sweeper
    and another claim (attempts moved on): it must not write its outcome over theirs."""
    current = dict(
        OutboundEmail.objects.select_for_update()
        .filter(pk__in=[r.pk for r in records], status=Status.SENDING)
        .values_list("pk", "attempts")
    )
    kept = [r for r in records if current.get(r.pk) == r.attempts]
    if len(kept) < len(records):
        lost = [r.pk for r in records if r not in kept]
        logger.warning("Lease lost on outbox %s: another claim owns them now", lost)
    return kept


@transaction.atomic
def finish_sent(results: list[tuple[OutboundEmail, str]]) -> None:
    mine = held([record for record, _ in results])
    results = [(record, message_id) for record, message_id in results if record in mine]
    now = timezone.now()
    for record, message_id in results:
        record.status = Status.SENT
        record.message_id = message_id
        record.sent_at = now
        record.claimed_until = None
        record.reuse_request_key = False
        record.last_error = ""
    OutboundEmail.objects.bulk_update(
        [r for r, _ in results],
        ["status", "message_id", "sent_at", "claimed_until", "reuse_request_key", "last_error"],
    )


@transaction.atomic
def finish_failed(records, error: str) -> None:
    records = held(records)
    for record in records:
        record.status = Status.FAILED
        record.last_error = error[:2000]
        record.claimed_until = None
    OutboundEmail.objects.bulk_update(records, ["status", "last_error", "claimed_until"])


def finish_retry(records, error: str, *, same_request_key=False, retry_after=None) -> None:
    now = timezone.now()
    with transaction.atomic():
        records = held(records)
        retrying, exhausted = [], []
        for record in records:
            full = record.attempts >= settings.EMAIL_MAX_ATTEMPTS
            (exhausted if full else retrying).append(record)
        if exhausted:
            finish_failed(exhausted, f"Gave up after {exhausted[0].attempts} attempts. {error}")
        if not retrying:
            return
        delay = retry_delay(max(r.attempts for r in retrying), retry_after)
        for record in retrying:
            record.status = Status.PENDING
            record.next_attempt_at = now + timedelta(seconds=delay)
            record.claimed_until = None
            record.reuse_request_key = same_request_key
            record.last_error = error[:2000]
        OutboundEmail.objects.bulk_update(
            retrying,
            ["status", "next_attempt_at", "claimed_until", "reuse_request_key", "last_error"],
        )
    dispatch.enqueue([r.pk for r in retrying], countdown=delay)
