"""Messages between a volunteer and the association about one application (its thread)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from missions.models import Application
from organisations.models import Organisation

# A message, or a saved answer, is a few paragraphs, not a document.
MAX_LENGTH = 5000


class Side(models.TextChoices):
    """Who speaks in a thread: the volunteer, or the association (any member of its team)."""

    VOLUNTEER = "volunteer", _("Volunteer")
    ASSOCIATION = "association", _("Association")

    @property
    def other(self) -> "Side":
        return Side.ASSOCIATION if self == Side.VOLUNTEER else Side.VOLUNTEER


class Message(models.Model):
    wagtail_reference_index_ignore = True

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="messages")
    # A manager who deletes their account leaves the association's words in the thread.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    side = models.CharField(max_length=20, choices=Side.choices)
    body = models.TextField(_("message"), max_length=MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    # When the other side first saw it: a message is unread for the side that did not write it.
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["application", "created_at"], name="message_thread"),
            models.Index(
                fields=["application", "side"],
                condition=Q(read_at__isnull=True),
                name="message_unread",
            ),
        ]

    def __str__(self):
        return f"{self.side} → {self.application_id}: {self.body[:40]}"


class Notice(models.Model):
    """The email telling one side of a thread that it has something to read.

    The row each new message locks: at most one email per thread and side per
    MESSAGE_NOTICE_WINDOW, however many messages arrive at the same instant."""

    wagtail_reference_index_ignore = True

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=20, choices=Side.choices)  # the side told
    # When the latest email goes (or went) out; the one before, to restore if it is cancelled.
    due_at = models.DateTimeField(null=True, blank=True)
    previous_due_at = models.DateTimeField(null=True, blank=True)
    sequence = models.PositiveIntegerField(default=0)  # numbers the emails' idempotency keys

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "side"], name="one_notice_per_side")
        ]

    def __str__(self):
        return f"{self.side} of {self.application_id} due {self.due_at}"


class SavedAnswer(models.Model):
    """A frequent answer an association's team keeps to insert into its messages."""

    wagtail_reference_index_ignore = True

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="saved_answers"
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), max_length=MAX_LENGTH)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("saved answer")
        ordering = ["title", "pk"]

    def __str__(self):
        return self.title
