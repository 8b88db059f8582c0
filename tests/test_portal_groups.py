"""Editors and moderators belong to one portal by its id; nothing else gives rights over all.

Also: the page chooser and the site search stay inside what the visitor may see, and a domain
switch purges the old host at the CDN.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from wagtail.models import (
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    PageViewRestriction,
    Site,
)

from home.models import StandardPage
from organisations.services import ensure_moderators_group, is_moderator
from tenants.models import PortalGroup
from tenants.portals import editors_group, ensure_editors_group
from tenants.switches import apply
from tests import factories as make

pytestmark = pytest.mark.django_db


def test_two_portals_with_the_same_name_do_not_share_editors_or_moderators(demo):
    first = demo["localhost"]
    second = make.portal("homonyme", name=first.site_name)
    assert editors_group(second) != editors_group(first)
    editor = make.editor(first)
    second_root = Page.objects.get(pk=second.root_page_id)
    assert not second_root.permissions_for_user(editor).can_edit()
    assert Page.objects.get(pk=first.root_page_id).permissions_for_user(editor).can_edit()

    moderator = make.moderator(first)
    assert ensure_moderators_group(second) != ensure_moderators_group(first)
    assert is_moderator(moderator, first) and not is_moderator(moderator, second)


def test_renaming_a_portal_keeps_its_groups(demo):
    site = demo["covid19.localhost"]
    group = editors_group(site)
    site.site_name = "Un autre nom"
    site.save()
    assert ensure_editors_group(site) == group
    assert PortalGroup.objects.get(site=site, role="editors").group == group


def test_a_group_that_only_carries_the_name_is_not_adopted(demo):
    squatter = Group.objects.create(name="Éditeurs · Portail neuf")
    site = make.portal("neuf", name="Portail neuf")
    assert editors_group(site) != squatter
    assert not GroupPagePermission.objects.filter(group=squatter).exists()


def test_migration_splits_a_group_shared_by_two_portals_of_the_same_name(demo):
    first = demo["localhost"]
    second = make.portal("homonyme", name=first.site_name)
    shared = editors_group(first)
    own = editors_group(second)
    # Back to the state before the migration: one group by name holding both trees.
    GroupPagePermission.objects.filter(group=own).update(group=shared)
    PortalGroup.objects.filter(group__in=[shared, own]).delete()
    own.delete()
    member = make.user()
    member.groups.add(shared)

    migration = importlib.import_module("tenants.migrations.0005_link_portal_groups")
    migration.link_portal_groups(django_apps, None)

    assert editors_group(first) == shared
    split = editors_group(second)
    assert split != shared and split.name.endswith(f"#{second.pk}")
    assert not Page.objects.get(pk=second.root_page_id).permissions_for_user(member).can_edit()
    assert GroupPagePermission.objects.filter(group=split, page_id=second.root_page_id).exists()


def test_wagtail_stock_groups_hold_no_rights_over_the_portals(demo):
    stock = Group.objects.filter(name__in=["Editors", "Moderators"])
    assert not GroupPagePermission.objects.filter(group__in=stock).exists()
    assert not GroupCollectionPermission.objects.filter(group__in=stock).exists()

    # A deployment where someone is still in one: the rights go, the member stays.
    group = Group.objects.create(name="Editors")
    GroupPagePermission.objects.create(
        group=group, page=Page.objects.get(depth=1), permission_type="change"
    )
    user = make.user()
    user.groups.add(group)
    migration = importlib.import_module("tenants.migrations.0005_link_portal_groups")
    migration.strip_stock_groups(django_apps, None)
    assert not GroupPagePermission.objects.filter(group=group).exists()
    assert user.groups.filter(pk=group.pk).exists()
    home = Page.objects.get(pk=demo["covid19.localhost"].root_page_id)
    assert not home.permissions_for_user(user).can_edit()


def test_page_chooser_lists_and_searches_only_the_editors_portals(client, demo):
    client.force_login(make.editor(demo["localhost"]))
    other_home = Page.objects.get(pk=demo["covid19.localhost"].root_page_id)
    own_home = Page.objects.get(pk=demo["localhost"].root_page_id)
    own_titles = {p.title for p in Page.objects.descendant_of(own_home, inclusive=True)}
    other_titles = [
        p.title
        for p in Page.objects.descendant_of(other_home)
        if p.title not in own_titles and len(p.title) > 8
    ]
    assert other_titles

    def html(url):
        response = client.get(url, HTTP_HOST="localhost")
        assert response.status_code == 200, url
        is_json = response["Content-Type"].startswith("application/json")
        return response.json()["html"] if is_json else response.text

    for title in other_titles:
        word = title.split()[-1]
        assert title not in html(f"/admin/choose-page/search/?q={word}"), title
    listed = html(f"/admin/choose-page/{other_home.pk}/")
    assert not any(title in listed for title in other_titles), other_titles
    assert "Comment ça marche" in html(f"/admin/choose-page/{own_home.pk}/")


def test_site_search_never_lists_a_page_behind_a_view_restriction(client, demo):
    page = StandardPage.objects.live().descendant_of(demo["localhost"].root_page).first()
    page.title = "Coulisses confidentielles"
    page.save_revision().publish()
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    text = client.get("/fr/search/?query=confidentielles", HTTP_HOST="localhost").text
    assert "Coulisses confidentielles" not in text


def test_domain_switch_purges_the_old_hosts_urls_at_the_cdn(
    demo, cloudflare, django_capture_on_commit_callbacks
):
    site = demo["covid19.localhost"]
    with django_capture_on_commit_callbacks(execute=True):
        apply(site, public_domain="moved.localhost")
    assert Site.objects.get(pk=site.pk).hostname == "moved.localhost"
    assert "http://moved.localhost/fr/" in cloudflare.purged
    assert "http://covid19.localhost/fr/" in cloudflare.purged
    assert "http://covid19.localhost/fr/inscription/" in cloudflare.purged
    assert "http://covid19.localhost/fr/gestes-barrieres/" in cloudflare.purged


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_still_gives_editors_the_translation_right():
    """wagtail-localize's permission comes from its migration: a flush (what transactional
    tests do) removed it, and every portal set up afterwards failed (tenants.signals)."""
    call_command("flush", interactive=False, verbosity=0)
    site = make.demo_portals()["localhost"]
    group = ensure_editors_group(site)
    assert group.permissions.filter(
        content_type__app_label="wagtail_localize", codename="submit_translation"
    ).exists()
