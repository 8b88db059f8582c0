"""Creating a campaign portal: its Site, its settings and its own editors group."""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from wagtail.models import GroupPagePermission, GroupSitePermission, Page, Site

from .models import PortalGroup, PortalSettings

EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
# Global rights: the admin, and submitting pages for translation (wagtail-localize; which pages
# is narrowed to those they may edit by tenants.middleware.TranslationScopeMiddleware).
EDITOR_GLOBAL_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("wagtail_localize", "submit_translation"),
)
EDITOR_SETTINGS_PERMISSIONS = (
    ("tenants", "change_portalsettings"),
    ("home", "change_footersettings"),
)


def editors_group_name(site: Site) -> str:
    return f"Éditeurs · {site.site_name or site.hostname}"


def portal_group(site: Site, role: str, name: str) -> Group:
    """The site's group for `role`, found by site id (PortalGroup), made on first use.

    Never adopted by name: a group that happens to carry the name (another portal of the
    same name, or one made by hand) is not this portal's, so the new group gets the site id.
    """
    link = PortalGroup.objects.filter(site=site, role=role).select_related("group").first()
    if link is not None:
        return link.group
    if Group.objects.filter(name=name).exists():
        name = f"{name} #{site.pk}"
    group, _ = Group.objects.get_or_create(name=name)
    PortalGroup.objects.create(site=site, role=role, group=group)
    return group


def editors_group(site: Site) -> Group:
    return portal_group(site, PortalGroup.Role.EDITORS, editors_group_name(site))


def ensure_editors_group(site: Site) -> Group:
    """The group whose page permissions cover this site's tree (all its languages) only."""
    group = editors_group(site)
    for app_label, codename in EDITOR_GLOBAL_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
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
    # The portal's settings (switches, footer pages) for this site only: Wagtail checks
    # per-site rights.
    for app_label, codename in EDITOR_SETTINGS_PERMISSIONS:
        GroupSitePermission.objects.get_or_create(
            group=group,
            site=site,
            permission=Permission.objects.get(content_type__app_label=app_label, codename=codename),
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


def pages_within_reach(pages, user):
    """`pages` narrowed to the trees the user's groups hold page permissions on.

    The page chooser (links, internal page blocks) lists and searches every page of every
    portal otherwise: an editor of one portal would read another portal's drafts' titles and
    link to them. Superusers keep everything.
    """
    if user.is_superuser:
        return pages
    roots = Page.objects.filter(group_permissions__group__in=user.groups.all()).distinct()
    reach = Q(pk__in=[])
    for path in roots.values_list("path", flat=True):
        reach |= Q(path__startswith=path)
    return pages.filter(reach)
