"""Brevo's delivery events (through Anymail's webhook) update the outbox, in order of rank.

Brevo posts events out of order; each state has a rank and a record only moves up, with a
conditional UPDATE so that two events processed at once cannot move it back either.
"""

import base64
import hmac

from anymail.signals import tracking
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .models import OutboundEmail, SuppressedAddress

# Brevo's raw event name -> (our delivery status, rank).
RANKS = {
    "request": ("accepted", 5),
    "deferred": ("deferred", 10),
    "soft_bounce": ("soft_bounced", 10),
    "delivered": ("delivered", 20),
    "unique_opened": ("opened", 30),
    "opened": ("opened", 30),
    "proxy_open": ("opened", 30),
    "unique_proxy_open": ("opened", 30),
    "click": ("clicked", 40),
    "unsubscribe": ("unsubscribed", 45),
    "blocked": ("blocked", 60),
    "error": ("error", 60),
    "invalid_email": ("bounced", 60),
    "hard_bounce": ("bounced", 60),
    "spam": ("complained", 70),
    "complaint": ("complained", 70),
}
UNDELIVERABLE = {"hard_bounce", "invalid_email", "spam", "complaint"}


def apply_event(*, brevo_event: str, message_id: str, recipient: str, when=None) -> bool:
    """Apply one delivery event; returns whether the record moved."""
    if brevo_event not in RANKS or not message_id:
        return False
    status, rank = RANKS[brevo_event]
    moved = OutboundEmail.objects.filter(message_id=message_id, delivery_rank__lt=rank).update(
        delivery_status=status, delivery_rank=rank, delivery_updated_at=when or timezone.now()
    )
    if brevo_event in UNDELIVERABLE and recipient:
        mark_undeliverable(recipient, brevo_event, message_id)
    return bool(moved)


def mark_undeliverable(email: str, reason: str, message_id: str = "") -> None:
    try:
        with transaction.atomic():
            SuppressedAddress.objects.create(
                email=email.strip().lower(), reason=reason, message_id=message_id
            )
    except IntegrityError:
        pass  # already suppressed (unique, case-insensitive)


@receiver(tracking)
def on_tracking_event(sender, event, esp_name, **kwargs):
    raw = event.esp_event or {}
    apply_event(
        brevo_event=raw.get("event", ""),
        message_id=event.message_id or "",
        recipient=event.recipient or "",
        when=event.timestamp,
    )


_anymail_view = BrevoTrackingWebhookView.as_view()


@csrf_exempt
def brevo_tracking(request):
    """Anymail's webhook, answering 401 (not Anymail's 400) to a wrong or missing secret."""
    secret = settings.ANYMAIL.get("WEBHOOK_SECRET", "")
    if not secret and not settings.DEBUG:
        # An unauthenticated webhook would let anyone suppress any address.
        return JsonResponse({"error": "ANYMAIL_WEBHOOK_SECRET is not configured"}, status=403)
    if secret and not _authorized(request, secret):
        response = JsonResponse({"error": "authentication required"}, status=401)
        response["WWW-Authenticate"] = 'Basic realm="brevo-webhook"'
        return response
    return _anymail_view(request)


def _authorized(request, secret: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        credentials = base64.b64decode(encoded, validate=True)
    except ValueError:  # binascii.Error included
        return False
    # Bytes, not str: compare_digest refuses non-ASCII text (a 500 otherwise).
    return any(hmac.compare_digest(credentials, s.encode()) for s in _secrets(secret))


def _secrets(secret) -> list[str]:
    return list(secret) if isinstance(secret, list | tuple) else [secret]
