"""The outbox: every email the portal sends is first a row here, written with its cause."""

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site


class OutboundEmail(models.Model):
    # Not content: Wagtail's reference index would cost 5 queries per email on the spike path.
    wagtail_reference_index_ignore = True

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # committed, due at next_attempt_at
        SENDING = "sending", _("Sending")  # claimed by a worker until claimed_until
        SENT = "sent", _("Sent")  # accepted by Brevo
        FAILED = "failed", _("Failed")  # permanent error, or retries exhausted
        SUPPRESSED = "suppressed", _("Not sent: undeliverable address")

    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, related_name="+")
    to_email = models.EmailField(_("recipient"))
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=10, default="fr")
    context = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=200,
        unique=True,
        help_text=_("One per event: a second email for the same event is impossible."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Brevo's idempotencyKey for the API request carrying this email. Kept when the outcome
    # of a request is unknown (timeout, worker killed) so that the retry cannot send twice.
    request_key = models.UUIDField(null=True, blank=True)
    reuse_request_key = models.BooleanField(default=False)
    last_error = models.TextField(_("last error"), blank=True)
    message_id = models.CharField(_("Brevo message id"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivery_status = models.CharField(_("delivery"), max_length=20, blank=True)
    delivery_rank = models.PositiveSmallIntegerField(default=0)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["message_id"], name="outbox_message_id"),
        ]

    def __str__(self):
        return f"{self.template} → {self.to_email} ({self.status})"


class SuppressedAddress(models.Model):
    """An address that hard-bounced or complained: the portal sends it nothing more."""

    wagtail_reference_index_ignore = True

    email = models.EmailField(_("email"))
    reason = models.CharField(_("reason"), max_length=50)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("undeliverable address")
        verbose_name_plural = _("undeliverable addresses")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="suppressed_email_ci_unique"),
        ]

    def __str__(self):
        return f"{self.email} ({self.reason})"
