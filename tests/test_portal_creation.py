"""A new portal, however it is made (command, Site added in the admin, demo loader): its
settings row, French then English root pages, editors and moderators groups tied to the site
id, its own collection; with --copy-from, a copy of another portal's tree in both languages."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from wagtail.models import Collection, GroupCollectionPermission, Locale, Page, Site

from home.models import FooterSettings
from tenants.models import PortalGroup, PortalSettings
from tenants.portals import create_portal, editors_group, set_up_portal
from tests import factories as make

pytestmark = pytest.mark.django_db


def roots(site):
    """The site's root page in each language, by language code."""
    root = Page.objects.get(pk=site.root_page_id)
    return {page.locale.language_code: page for page in root.get_translations(inclusive=True)}


def assert_is_a_portal(site):
    portal = PortalSettings.objects.get(site=site)
    assert portal.public_domain == site.hostname
    links = dict(PortalGroup.objects.filter(site=site).values_list("role", "group__name"))
    assert set(links) == {PortalGroup.Role.EDITORS, PortalGroup.Role.MODERATORS}
    languages = roots(site)
    assert set(languages) == {"fr", "en"}
    assert site.root_page.locale.language_code == "fr"  # French first: the site's root
    assert all(page.live for page in languages.values())
    editors = editors_group(site)
    for page in languages.values():
        assert page.permissions_for_user(make.editor(site)).can_edit()
    rights = GroupCollectionPermission.objects.filter(group=editors, collection=portal.collection)
    assert set(rights.values_list("permission__codename", flat=True)) == {
        "add_image",
        "change_image",
        "choose_image",
        "add_document",
        "change_document",
        "choose_document",
    }


def test_the_command_makes_a_whole_portal(demo):
    call_command("create_portal", hostname="Solidarite.localhost", name="Solidarité")
    site = Site.objects.get(hostname="solidarite.localhost")
    assert site.site_name == "Solidarité"
    assert_is_a_portal(site)
    # Another portal's editors have no right on it.
    other_editor = make.editor(demo["localhost"])
    assert not site.root_page.permissions_for_user(other_editor).can_edit()
    assert roots(site)["fr"].get_children().count() == 0


def test_copy_from_copies_both_languages_kept_as_translations(demo):
    source = demo["covid19.localhost"]
    source_pages = Page.objects.descendant_of(source.root_page, inclusive=True).count()
    call_command(
        "create_portal", hostname="copie.localhost", name="Copie", copy_from="covid19.localhost"
    )
    site = Site.objects.get(hostname="copie.localhost")
    assert_is_a_portal(site)
    french, english = roots(site)["fr"], roots(site)["en"]
    assert french.title == english.title == "Copie"
    copied = Page.objects.descendant_of(french, inclusive=True)
    assert copied.count() == source_pages
    en = Locale.objects.get(language_code="en")
    for page in copied.exclude(pk=french.pk):
        translated = page.get_translation_or_none(en)
        assert translated is not None, page.slug
        assert translated.is_descendant_of(english), page.slug
    # The source is untouched, and the copy is not the source.
    assert Page.objects.descendant_of(source.root_page, inclusive=True).count() == source_pages
    assert not french.is_descendant_of(source.root_page)
    # Its footer links to the copies of the source's footer pages, never to the source's.
    source_footer, footer = FooterSettings.for_site(source), FooterSettings.for_site(site)
    linked = [name for name in FooterSettings.PAGES if getattr(source_footer, f"{name}_id")]
    assert linked, "the demo portal's footer links to its pages"
    for name in linked:
        page, original = getattr(footer, name), getattr(source_footer, name)
        assert page is not None and page.pk != original.pk, name
        assert page.slug == original.slug and page.is_descendant_of(french), name
    footer.full_clean()  # every page is this portal's
    # Visitors get the copied pages on the new host.
    child = french.get_children().live().first()
    response = make.client_for(host="copie.localhost").get(f"/fr/{child.slug}/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("portail.example.org", "PORTAL_DOMAINS"),
        ("covid19.localhost", "another portal"),
        ("not a host", "hostname"),
    ],
)
def test_a_hostname_is_checked_as_a_domain_move_is(demo, hostname, message):
    sites = Site.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_portal", hostname=hostname, name="Refusé")
    assert Site.objects.count() == sites
    assert not Page.objects.filter(title="Refusé").exists()


def test_copy_from_an_unknown_portal_is_refused(demo):
    with pytest.raises(CommandError, match="No portal answers"):
        call_command("create_portal", hostname="x.localhost", name="X", copy_from="nope.local")


@override_settings(PORTAL_DOMAINS=[])
def test_without_allowed_domains_no_portal_is_made(demo):
    with pytest.raises(CommandError, match="PORTAL_DOMAINS"):
        call_command("create_portal", hostname="x.localhost", name="X")


def test_a_site_added_in_wagtails_admin_becomes_a_portal(client, demo):
    client.force_login(make.superuser())
    home = Page.get_first_root_node().add_child(
        instance=Page(title="Nouvelle campagne", slug="nouvelle-campagne")
    )
    response = client.post(
        "/admin/sites/new/",
        {
            "hostname": "nouvelle.localhost",
            "port": 80,
            "site_name": "Nouvelle campagne",
            "root_page": home.pk,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    site = Site.objects.get(hostname="nouvelle.localhost")
    assert_is_a_portal(site)


def test_set_up_is_idempotent_and_groups_follow_the_site_not_its_name(demo):
    site = create_portal(hostname="idem.localhost", name="Idem")
    groups = set(PortalGroup.objects.filter(site=site).values_list("group", flat=True))
    collection = PortalSettings.objects.get(site=site).collection
    site.site_name = "Renommé"
    site.save()
    set_up_portal(site)
    assert set(PortalGroup.objects.filter(site=site).values_list("group", flat=True)) == groups
    assert PortalSettings.objects.get(site=site).collection == collection
    assert Collection.objects.filter(pk=collection.pk).count() == 1
    assert len(roots(site)) == 2


def test_a_superuser_makes_a_whole_portal_from_the_admin(demo):
    client = make.client_for(make.superuser())
    form = client.get("/admin/portals/new/")
    assert form.status_code == 200
    assert 'name="copy_from"' in form.text
    source = demo["covid19.localhost"]
    response = client.post(
        "/admin/portals/new/",
        {"hostname": "depuis-admin.localhost", "name": "Depuis l'admin", "copy_from": source.pk},
    )
    assert response.status_code == 302
    site = Site.objects.get(hostname="depuis-admin.localhost")
    assert_is_a_portal(site)
    source_pages = Page.objects.descendant_of(source.root_page, inclusive=True).count()
    assert Page.objects.descendant_of(site.root_page, inclusive=True).count() == source_pages


def test_the_admin_form_refuses_a_hostname_as_the_command_does(demo):
    client = make.client_for(make.superuser())
    sites = Site.objects.count()
    response = client.post("/admin/portals/new/", {"hostname": "ailleurs.example.org", "name": "X"})
    assert response.status_code == 200
    assert "PORTAL_DOMAINS" in response.text
    assert Site.objects.count() == sites


def test_only_superusers_make_portals(demo):
    client = make.client_for(make.editor(demo["localhost"]))
    assert client.get("/admin/portals/new/").status_code == 403
    response = client.post("/admin/portals/new/", {"hostname": "x.localhost", "name": "X"})
    assert response.status_code == 403
    assert not Site.objects.filter(hostname="x.localhost").exists()
