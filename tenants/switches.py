"""The portal's switches: domain, degraded mode, signups. One code path for the admin and ops.

Editors change them in the Wagtail admin (Settings → Portal settings); operators with
`manage.py portal_switch`. Both save PortalSettings, and the signals here do the rest, after
the transaction commits: the switch log, the domain move, the cache purge.
"""

import contextvars

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _
from wagtail.log_actions import get_active_log_context
from wagtail.models import Site

from .models import PortalSettings, SiteAlias, SwitchChange, is_hostname

# Who is switching, when not a Wagtail admin request (the management command sets it).
switch_source = contextvars.ContextVar("switch_source", default=("admin", None))


def validate_domain(site: Site, hostname: str) -> None:
    is_hostname(hostname)
    taken = Site.objects.filter(hostname=hostname).exclude(pk=site.pk).exists()
    aliased = SiteAlias.objects.filter(hostname=hostname).exclude(site=site).exists()
    if taken or aliased:
        raise ValidationError({"public_domain": _("This hostname belongs to another portal.")})


@transaction.atomic
def switch_domain(site: Site, new_hostname: str) -> bool:
    """Make `new_hostname` the site's hostname; the old one becomes an alias (redirects)."""
    new_hostname = new_hostname.strip().lower().rstrip(".")
    site = Site.objects.select_for_update().get(pk=site.pk)
    if site.hostname == new_hostname:
        return False
    validate_domain(site, new_hostname)
    SiteAlias.objects.filter(site=site, hostname=new_hostname).delete()
    SiteAlias.objects.get_or_create(hostname=site.hostname, defaults={"site": site})
    site.hostname = new_hostname
    site.save()  # tenants.signals: host map invalidated and caches purged after commit
    return True


def apply(site: Site, *, user=None, source: str = "command", **changes) -> PortalSettings:
    """Change switches outside the admin (same save, same log, same purge)."""
    portal = PortalSettings.for_site(site)
    for field, value in changes.items():
        setattr(portal, field, value)
    portal.full_clean()
    token = switch_source.set((source, user))
    try:
        portal.save()
    finally:
        switch_source.reset(token)
    return portal


@receiver(pre_save, sender=PortalSettings)
def remember_previous(sender, instance, **kwargs):
    previous = PortalSettings.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._previous = (
        {f: getattr(previous, f) for f in PortalSettings.AUDITED} if previous else {}
    )


@receiver(post_save, sender=PortalSettings)
def log_and_apply(sender, instance, created, **kwargs):
    previous = getattr(instance, "_previous", {})
    source, user = switch_source.get()
    if user is None:
        context = get_active_log_context()
        user = getattr(context, "user", None) if context else None
    changes = [
        SwitchChange(
            site=instance.site,
            field=field,
            old_value=str(previous.get(field, "")),
            new_value=str(getattr(instance, field)),
            user=user if getattr(user, "pk", None) else None,
            source=source,
        )
        for field in PortalSettings.AUDITED
        if previous and previous.get(field) != getattr(instance, field)
    ]
    SwitchChange.objects.bulk_create(changes)
    if instance.public_domain and instance.public_domain != instance.site.hostname:
        switch_domain(instance.site, instance.public_domain)
