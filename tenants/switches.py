"""The portal's switches: domain, degraded mode, signups. One code path for the admin and ops.

Editors change them in the Wagtail admin (Settings → Portal settings); operators with
`manage.py portal_switch`. Both save PortalSettings, and `tenants.signals` does the rest, after
the transaction commits: the switch log, the domain move, the cache purge.

The public domain is special: it is where every email link points. A portal only moves to a
domain on the operators' allow-list (PORTAL_DOMAINS), and only a superuser or an operator
moves it; an editor's new domain is recorded as a request.
"""

import contextvars

from django.db import transaction
from wagtail.models import Site

from .models import PortalSettings, SiteAlias, validate_domain
from .validators import normalize_hostname

# Who is switching, when not a Wagtail admin request (the management command sets it).
switch_source = contextvars.ContextVar("switch_source", default=("admin", None))


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
