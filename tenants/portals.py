"""Creating a campaign portal: its Site, its settings, its French and English root pages, its
own editors and moderators groups and its own collection of images and documents.

One path for every way a portal is made: `create_portal` (the `create_portal` command),
`set_up_portal` (a Site added in Wagtail's admin, through tenants.signals) and `ensure_portal`
(the demo loader) all end in `set_up_portal`.
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    GroupSitePermission,
    Locale,
    Page,
    Site,
)

from home.models import FooterSettings, HomePage

from .models import PortalGroup, PortalSettings, validate_domain
from .validators import normalize_hostname

EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
# Global rights: the admin, submitting pages for translation (wagtail-localize; which pages
# is narrowed to those they may edit by tenants.middleware.TranslationScopeMiddleware), and
# naming and translating the taxonomy every portal shares (missions.models.Domain, Activity:
# not adding or removing them, nor changing their slugs, which the search facets filter on).
EDITOR_GLOBAL_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("wagtail_localize", "submit_translation"),
    ("missions", "change_domain"),
    ("missions", "change_activity"),
)
EDITOR_SETTINGS_PERMISSIONS = (
    ("tenants", "change_portalsettings"),
    ("home", "change_footersettings"),
)


# Images and documents: editors add, edit and choose them in their portal's collection only
# (Wagtail lists an image or a document to whoever holds a right on its collection).
EDITOR_COLLECTION_PERMISSIONS = (
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
)
MODERATOR_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("organisations", "view_organisation"),
    ("organisations", "change_organisation"),
    ("missions", "view_mission"),
    ("missions", "change_mission"),
)


def permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


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


def moderators_group_name(site: Site) -> str:
    return f"Modérateurs · {site.site_name or site.hostname}"


def ensure_moderators_group(site: Site) -> Group:
    """The group that moderates this portal's organisations and missions (organisations.services
    checks membership by site id)."""
    group = portal_group(site, PortalGroup.Role.MODERATORS, moderators_group_name(site))
    group.permissions.add(*(permission(*pair) for pair in MODERATOR_PERMISSIONS))
    return group


def ensure_editors_group(site: Site) -> Group:
    """The group whose page permissions cover this site's tree (all its languages) only."""
    group = editors_group(site)
    group.permissions.add(*(permission(*pair) for pair in EDITOR_GLOBAL_PERMISSIONS))
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
    collection = ensure_collection(site)
    for pair in EDITOR_COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=collection, permission=permission(*pair)
        )
    return group


def ensure_collection(site: Site) -> Collection:
    """The portal's own collection (under Wagtail's root one), found through its settings row:
    a renamed collection, or another one of the same name, changes nothing."""
    portal = PortalSettings.for_site(site)
    if portal.collection_id is not None:
        return portal.collection
    # Wagtail's migration makes the root collection; a flushed database (tests) has none.
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    collection = root.add_child(name=site.site_name or site.hostname)
    PortalSettings.objects.filter(pk=portal.pk).update(collection=collection)
    portal.collection = collection
    return collection


def content_locales() -> list[Locale]:
    """The content languages' locales, French (settings.LANGUAGE_CODE) first, made if missing."""
    codes = [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES]
    codes.sort(key=lambda code: code != settings.LANGUAGE_CODE)
    return [Locale.objects.get_or_create(language_code=code)[0] for code in codes]


def ensure_root_translations(site: Site) -> list[Page]:
    """The site's root page in every content language: a missing one is copied from the root
    (published if the root is), as wagtail-localize's translations of it later update."""
    root = site.root_page.specific
    roots = [root]
    for locale in content_locales():
        if locale.pk == root.locale_id:
            continue
        translated = root.get_translation_or_none(locale)
        if translated is None:
            translated = root.copy_for_translation(locale)
            if root.live:
                translated.specific.save_revision().publish()
        roots.append(translated)
    return roots


@transaction.atomic
def set_up_portal(site: Site) -> Site:
    """Everything a Site needs to be a portal; idempotent, so any path may call it again."""
    portal = PortalSettings.for_site(site)  # creates the row with defaults
    if not portal.public_domain:
        PortalSettings.objects.filter(pk=portal.pk).update(public_domain=site.hostname)
    if site.root_page.depth > 1:  # Wagtail's root node has no translations
        ensure_root_translations(site)
    ensure_editors_group(site)
    ensure_moderators_group(site)
    return site


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
    return set_up_portal(site)


def free_root_slug(text: str) -> str:
    """A slug no page directly under Wagtail's root holds yet, in any language."""
    base = slugify(text) or "portail"
    taken = set(Page.get_first_root_node().get_children().values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def paired_pages(source: Page, copy: Page):
    """(source page, its copy) down two trees Wagtail copied: children keep their order."""
    yield source, copy
    for pair in zip(source.get_children(), copy.get_children(), strict=True):
        yield from paired_pages(*pair)


def copy_tree(source: Site, *, name: str, slug: str) -> tuple[Page, dict[int, int]]:
    """A copy of `source`'s pages in every language under Wagtail's root, kept as
    translations of each other: each copied page in another language carries the translation
    key of the copy of its French page (Wagtail gives every copy a new key). Returns the
    French root's copy and {source French page id: its copy's id}."""
    french_root = source.root_page.specific
    pages_root = Page.get_first_root_node()
    copy = french_root.copy(
        recursive=True, to=pages_root, update_attrs={"slug": slug, "title": name}
    )
    french = list(paired_pages(french_root, copy))  # one walk down both trees, read twice
    copied_key = {page.translation_key: page_copy.translation_key for page, page_copy in french}
    for translated_root in french_root.get_translations():
        language = translated_root.locale.language_code
        translated_copy = translated_root.specific.copy(
            recursive=True,
            to=pages_root,
            update_attrs={"slug": free_root_slug(f"{slug}-{language}"), "title": name},
        )
        for page, page_copy in paired_pages(translated_root, translated_copy):
            key = copied_key.get(page.translation_key)
            if key is not None:
                Page.objects.filter(pk=page_copy.pk).update(translation_key=key)
    return copy, {page.pk: page_copy.pk for page, page_copy in french}


def copy_footer(source: Site, site: Site, copies: dict[int, int]) -> None:
    """The new portal's footer links to the copies of the pages the source's footer links to
    (never to the source's own pages: another portal's, which FooterSettings refuses)."""
    footer, mine = FooterSettings.for_site(source), FooterSettings.for_site(site)
    for name in FooterSettings.PAGES:
        page_id = getattr(footer, f"{name}_id")
        setattr(mine, f"{name}_id", copies.get(page_id) if page_id else None)
    mine.save()


@transaction.atomic
def create_portal(
    *, hostname: str, name: str, copy_from: Site | None = None, port: int = 80
) -> Site:
    """A new portal on `hostname` (checked as a domain move is: PORTAL_DOMAINS, and no other
    portal's), its root pages new or copied from another portal, then set up."""
    hostname = normalize_hostname(hostname)
    validate_domain(Site(hostname=""), hostname)
    slug = free_root_slug(name)
    copies = None
    if copy_from is not None:
        root, copies = copy_tree(copy_from, name=name, slug=slug)
    else:
        french = content_locales()[0]
        root = Page.get_first_root_node().add_child(
            instance=HomePage(title=name, slug=slug, locale=french)
        )
        root.save_revision().publish()
    site = Site.objects.create(hostname=hostname, port=port, site_name=name, root_page=root)
    if copies is not None:
        copy_footer(copy_from, site, copies)
    return set_up_portal(site)


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
