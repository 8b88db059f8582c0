"""Creating a campaign portal: its Site, its settings and its own editors group."""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission, GroupSitePermission, Page, Site

from .models import PortalSettings

EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")


def editors_group_name(site: Site) -> str:
    return f"Éditeurs · {site.site_name or site.hostname}"


def ensure_editors_group(site: Site) -> Group:
    """The group whose page permissions cover this site's tree (all its languages) only."""
    group, _ = Group.objects.get_or_create(name=editors_group_name(site))
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    roots = site.root_page.get_translations(inclusive=True)
    for root in roots:
        for codename in EDITOR_PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=group,
                page=root,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )
    # The portal's switches (settings) for this site only: Wagtail checks per-site rights.
    GroupSitePermission.objects.get_or_create(
        group=group,
        site=site,
        permission=Permission.objects.get(
            content_type__app_label="tenants", codename="change_portalsettings"
        ),
    )
    return group


def ensure_portal(
    *, hostname: str, name: str, root_page: Page, port: int = 80, is_default: bool = False
) -> Site:
    """Idempotent: the demo loader and operators' scripts call it again safely."""
    site, _ = Site.objects.update_or_create(
        hostname=hostname,
        defaults={
            "site_name": name,
            "root_page": root_page,
            "port": port,
            "is_default_site": is_default,
        },
    )
    portal = PortalSettings.for_site(site)  # creates the row with defaults
    if not portal.public_domain:
        PortalSettings.objects.filter(pk=portal.pk).update(public_domain=site.hostname)
    ensure_editors_group(site)
    return site


def public_base_url(site: Site) -> str:
    """Scheme and host of the portal's current public domain, for links leaving the site.

    Production always links over https (TLS ends at the proxy); the port is kept only when it
    is not a default one, as on a developer's machine.
    """
    scheme = settings.PORTAL_PUBLIC_SCHEME
    port = "" if site.port in (80, 443) else f":{site.port}"
    return f"{scheme}://{site.hostname}{port}"
