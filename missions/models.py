"""Organisations and their missions. Later issues add moderation, applications, geocoding."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site


class Organisation(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VALIDATED = "validated", _("Validated")
        REFUSED = "refused", _("Refused")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="organisations")
    description = models.TextField(_("description"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")

    def __str__(self):
        return self.name


class Mission(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VALIDATED = "validated", _("Validated")
        REFUSED = "refused", _("Refused")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="missions"
    )
    sites = models.ManyToManyField(Site, related_name="missions", verbose_name=_("portals"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(_("description"))
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_remote = models.BooleanField(_("remote"), default=False)
    places = models.PositiveIntegerField(_("places"), default=1)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mission")

    def __str__(self):
        return self.title
