"""Tenancy: each campaign portal is a Wagtail Site; these models hang off it."""

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site

from .forms import PortalSettingsForm
from .validators import may_move, normalize_hostname, validate_move


class SiteAlias(models.Model):
    """A former or secondary hostname of a site, answered with a redirect to its domain."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="aliases")
    hostname = models.CharField(_("hostname"), max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("site alias")
        verbose_name_plural = _("site aliases")

    def __str__(self):
        return f"{self.hostname} → {self.site.hostname}"

    def save(self, *args, **kwargs):
        self.hostname = self.hostname.strip().lower()
        super().save(*args, **kwargs)


class PortalGroup(models.Model):
    """The group that holds one role (editors, moderators) on one portal.

    Found by site id, never by name: two portals may share a name, and a name can be edited.
    """

    class Role(models.TextChoices):
        EDITORS = "editors", _("Editors")
        MODERATORS = "moderators", _("Moderators")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="portal_groups")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="portal_role")

    class Meta:
        verbose_name = _("portal group")
        constraints = [
            models.UniqueConstraint(fields=["site", "role"], name="one_group_per_portal_role")
        ]

    def __str__(self):
        return f"{self.site} · {self.role}"


SWITCHES_TTL = 2.0
_switches: dict[int, tuple[float, "PortalSettings"]] = {}


@register_setting(icon="cog")
class PortalSettings(BaseSiteSetting):
    """The switches an editor flips for one portal. Read through the per-request cache."""

    class BannerLevel(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        ALERT = "alert", _("Alert")

    public_domain = models.CharField(
        _("public domain"),
        max_length=255,
        blank=True,
        help_text=_(
            "The hostname visitors use. Changing it moves the portal: the former hostname keeps "
            "answering with a permanent redirect to this one. Only a domain the operators allow; "
            "an editor's change is a request, applied by an administrator."
        ),
    )
    requested_domain = models.CharField(
        _("requested public domain"),
        max_length=255,
        blank=True,
        editable=False,
        help_text=_(
            "A move an editor asked for: an administrator applies it by entering it as the "
            "public domain."
        ),
    )
    signups_open = models.BooleanField(_("signups open"), default=True)
    degraded_mode = models.BooleanField(
        _("degraded mode"),
        default=False,
        help_text=_("Turns off expensive features to keep the essentials up under load."),
    )
    banner_message = models.CharField(_("banner message"), max_length=300, blank=True)
    banner_level = models.CharField(
        _("banner level"), max_length=10, choices=BannerLevel.choices, default=BannerLevel.INFO
    )
    sender_name = models.CharField(_("email sender name"), max_length=100, blank=True)
    reply_to = models.EmailField(_("email reply-to"), blank=True)
    # The portal's own images and documents (tenants.portals.ensure_collection).
    collection = models.OneToOneField(
        "wagtailcore.Collection",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="portal_settings",
        verbose_name=_("collection"),
    )

    # Fields whose every change is written to the switch log.
    AUDITED = (
        "public_domain",
        "requested_domain",
        "signups_open",
        "degraded_mode",
        "banner_message",
        "banner_level",
        "sender_name",
        "reply_to",
    )

    base_form_class = PortalSettingsForm
    panels = [
        FieldPanel("public_domain"),
        FieldPanel("requested_domain", read_only=True),
        FieldPanel("signups_open"),
        FieldPanel("degraded_mode"),
        FieldPanel("banner_message"),
        FieldPanel("banner_level"),
        FieldPanel("sender_name"),
        FieldPanel("reply_to"),
    ]

    class Meta:
        verbose_name = _("portal settings")

    @classmethod
    def cached_for_site(cls, site) -> "PortalSettings":
        """The site's switches, re-read at most every SWITCHES_TTL seconds per process.

        Hot paths (signup, every page's banner) read them without a query; a switch flipped
        in the admin is seen everywhere within that TTL.
        """
        now = time.monotonic()
        cached = _switches.get(site.pk)
        if cached is None or cached[0] < now:
            cached = _switches[site.pk] = (now + SWITCHES_TTL, cls.for_site(site))
        return cached[1]

    def save(self, *args, **kwargs):
        if self.public_domain and self.site_id and self.public_domain != self.site.hostname:
            self.requested_domain = ""  # a move settles any pending request
        super().save(*args, **kwargs)
        _switches.pop(self.site_id, None)

    def domain_to_save(self, hostname: str, user, *, changed: bool) -> str:
        """The public domain an admin form saves; an editor's new domain is only a request.

        A superuser's choice moves the portal. Anyone else's, once valid, is kept in
        `requested_domain` (so the switch log records who asked) and the portal stays where
        it is, until a superuser enters it as the public domain.
        """
        hostname = normalize_hostname(hostname)
        if hostname == self.site.hostname or may_move(user):
            return hostname
        if changed:
            validate_domain(self.site, hostname)
            self.requested_domain = hostname
        return self.site.hostname

    def clean(self):
        if self.public_domain:
            self.public_domain = normalize_hostname(self.public_domain)
            try:
                validate_domain(self.site, self.public_domain)
            except ValidationError as exc:
                raise ValidationError({"public_domain": exc.messages}) from exc


class SwitchChange(models.Model):
    """Who flipped which switch of which portal, when, from what to what."""

    wagtail_reference_index_ignore = True

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="switch_changes")
    field = models.CharField(_("switch"), max_length=50)
    old_value = models.TextField(_("before"), blank=True)
    new_value = models.TextField(_("after"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("from"), max_length=20, default="admin")
    changed_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("switch change")
        verbose_name_plural = _("switch log")
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.site} {self.field}: {self.old_value} → {self.new_value}"


def validate_domain(site: Site, hostname: str) -> None:
    """The one check of a portal's public domain, for the admin and the command alike: a move
    allowed by the operators (`validators.validate_move`) to a hostname no other portal
    answers on."""
    validate_move(site.hostname, hostname)
    taken = Site.objects.filter(hostname=hostname).exclude(pk=site.pk).exists()
    aliased = SiteAlias.objects.filter(hostname=hostname).exclude(site_id=site.pk).exists()
    if taken or aliased:
        raise ValidationError(_("This hostname belongs to another portal."))
