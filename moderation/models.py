"""What moderators keep about the portal's objects: their scope (département referents), the
history of each object's states, private notes, and visitors' reports of missions."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from missions.postcodes import DEPARTEMENTS, departement_order

DEPARTEMENT_CHOICES = [
    (code, f"{code} · {name}")
    for code, name in sorted(DEPARTEMENTS.items(), key=lambda item: departement_order(item[0]))
]


class Referent(models.Model):
    """A moderator of `site` who works one département of it (several rows: several
    départements). A moderator with no row for a portal moderates the whole portal."""

    wagtail_reference_index_ignore = True

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="referent_of",
        verbose_name=_("moderator"),
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="referents", verbose_name=_("portal")
    )
    departement = models.CharField(_("département"), max_length=3, choices=DEPARTEMENT_CHOICES)

    class Meta:
        verbose_name = _("département referent")
        verbose_name_plural = _("département referents")
        ordering = ["site", "departement"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site", "departement"], name="one_referent_per_departement"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.departement}"


class AboutObject(models.Model):
    """Attached to an organisation or a mission (any model, by content type)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    wagtail_reference_index_ignore = True

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]


class StateChange(AboutObject):
    """One move of an object from a state to another: who (None: the portal itself), when,
    from, to, why. Written by the services that move objects, in their transaction."""

    from_status = models.CharField(_("from"), max_length=20)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta(AboutObject.Meta):
        verbose_name = _("state change")
        indexes = [models.Index(fields=["content_type", "object_id"], name="state_change_subject")]

    def __str__(self):
        return f"{self.from_status} → {self.to_status}"


class Note(AboutObject):
    """A moderator's private note on an organisation or a mission: moderators read it, the
    organisation never does."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    text = models.TextField(_("note"), max_length=5000)

    class Meta(AboutObject.Meta):
        verbose_name = _("moderator's note")
        indexes = [models.Index(fields=["content_type", "object_id"], name="note_subject")]

    def __str__(self):
        return self.text[:50]


class Report(models.Model):
    """A visitor's report of a mission, for the moderators of its portal."""

    class Reason(models.TextChoices):
        MISLEADING = "misleading", _("Misleading or false information")
        NOT_VOLUNTEERING = "not_volunteering", _("Not volunteering (paid work, sales)")
        DISCRIMINATION = "discrimination", _("Discriminating or offensive")
        DANGEROUS = "dangerous", _("Dangerous for volunteers")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        SUSPENDED = "suspended", _("Mission suspended")

    wagtail_reference_index_ignore = True

    mission = models.ForeignKey(
        "missions.Mission",
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("mission"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    message = models.TextField(_("message"), blank=True, max_length=2000)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("report")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.mission} · {self.get_reason_display()}"
