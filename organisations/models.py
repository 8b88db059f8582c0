"""Organisations (associations, local authorities, public bodies) and their managers."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from .validators import validate_rna, validate_siret


class Organisation(models.Model):
    class Type(models.TextChoices):
        ASSOCIATION = "association", _("Association")
        LOCAL_AUTHORITY = "local_authority", _("Local authority")
        PUBLIC_BODY = "public_body", _("Public body")
        PRIVATE = "private", _("Private organisation")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VALIDATED = "validated", _("Validated")
        REFUSED = "refused", _("Refused")
        SUSPENDED = "suspended", _("Suspended")

    wagtail_reference_index_ignore = True

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="organisations")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    type = models.CharField(
        _("type"), max_length=20, choices=Type.choices, default=Type.ASSOCIATION
    )
    rna = models.CharField(_("RNA number"), max_length=10, blank=True)
    siret = models.CharField(_("SIRET number"), max_length=14, blank=True)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    refusal_reason = models.TextField(_("reason"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("organisation")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        """The public page, in the current language (/fr/organisations/slug/)."""
        return reverse("organisation", kwargs={"slug": self.slug})

    def clean(self):
        errors = {}
        if self.rna:
            try:
                self.rna = validate_rna(self.rna)
            except ValidationError as exc:
                errors["rna"] = exc.messages
        if self.siret:
            try:
                self.siret = validate_siret(self.siret)
            except ValidationError as exc:
                errors["siret"] = exc.messages
        if self.type == self.Type.ASSOCIATION and not (self.rna or self.siret):
            errors["rna"] = [_("An association needs its RNA or SIRET number.")]
        elif self.type != self.Type.ASSOCIATION and not self.siret:
            errors["siret"] = [_("A SIRET number is required.")]
        if errors:
            raise ValidationError(errors)


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_membership")
        ]

    def __str__(self):
        return f"{self.user} @ {self.organisation}"


def invitation_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    """A manager invites someone by email; the link expires after 7 days."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    wagtail_reference_index_ignore = True

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
