"""Tenancy: each campaign portal is a Wagtail Site; these models hang off it."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site


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


@register_setting(icon="cog")
class PortalSettings(BaseSiteSetting):
    """The switches an editor flips for one portal. Read through the per-request cache."""

    class BannerLevel(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        ALERT = "alert", _("Alert")

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

    class Meta:
        verbose_name = _("portal settings")
