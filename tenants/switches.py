"""The portal's switches: domain, degraded mode, signups. One code path for the admin and ops.

Editors change them in the Wagtail admin (Settings → Portal settings); operators with
`manage.py portal_switch`. Both save PortalSettings, and the signals here do the rest, after
the transaction commits: the switch log, the domain move, the cache purge.

The public domain is special: it is where every email link points. A portal only moves to a
domain on the operators' allow-list (PORTAL_DOMAINS), and only a superuser or an operator
moves it; an editor's new domain is recorded as a request.
"""

import contextvars

from django.conf import settings
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


def normalize_hostname(hostname: str) -> str:
    return hostname.strip().lower().rstrip(".")


def domain_allowed(hostname: str, allowed: list[str] | None = None) -> bool:
    """Is `hostname` on the operators' allow-list (settings.PORTAL_DOMAINS)?

    ".gouv.fr" allows gouv.fr and every name under it; "jeveuxaider.fr" that name only. The
    list is the operators', not the editors': a portal's domain is where its email links
    point, so moving it to a host someone else controls would hand them every token.
    """
    hostname = normalize_hostname(hostname)
    for entry in settings.PORTAL_DOMAINS if allowed is None else allowed:
        entry = normalize_hostname(entry)
        if entry.startswith("."):
            if hostname == entry[1:] or hostname.endswith(entry):
                return True
        elif entry and hostname == entry:
            return True
    return False


def validate_domain(site: Site, hostname: str) -> None:
    """The one check of a portal's public domain, for the admin and the command alike.

    Staying on the current hostname is always fine; moving needs a well-formed hostname on
    PORTAL_DOMAINS that no other portal answers on.
    """
    is_hostname(hostname)
    if hostname != site.hostname and not domain_allowed(hostname):
        if not settings.PORTAL_DOMAINS:
            raise ValidationError(
                _("Portals cannot move: no domain is allowed (PORTAL_DOMAINS is not set).")
            )
        raise ValidationError(
            _("%(hostname)s is not among the domains portals may move to (PORTAL_DOMAINS).")
            % {"hostname": hostname}
        )
    taken = Site.objects.filter(hostname=hostname).exclude(pk=site.pk).exists()
    aliased = SiteAlias.objects.filter(hostname=hostname).exclude(site=site).exists()
    if taken or aliased:
        raise ValidationError(_("This hostname belongs to another portal."))


def may_move(user) -> bool:
    """Only superusers move a portal from the admin (operators, from the command line)."""
    return bool(user is not None and user.is_superuser)


def public_domain_to_save(portal: PortalSettings, hostname: str, user, *, changed: bool) -> str:
    """The public domain an admin form saves; an editor's new domain is only a request.

    A superuser's choice moves the portal. Anyone else's, once valid, is kept in
    `requested_domain` (so the switch log records who asked) and the portal stays where it
    is, until a superuser enters it as the public domain.
    """
    hostname = normalize_hostname(hostname)
    site = portal.site
    if hostname == site.hostname or may_move(user):
        return hostname
    if changed:
        validate_domain(site, hostname)
        portal.requested_domain = hostname
    return site.hostname


@transaction.atomic
def switch_domain(site: Site, new_hostname: str) -> bool:
    """Make `new_hostname` the site's hostname; the old one becomes an alias (redirects)."""
    new_hostname = normalize_hostname(new_hostname)
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
