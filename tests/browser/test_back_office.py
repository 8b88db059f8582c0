"""The people behind the portal, in a real browser: an editor publishes and sends a page to
translation, a moderator works the queue, a superuser moves a portal to a new domain. Staff sign
in with a password and a code from their authenticator (tests/browser/support.staff_sign_in).

Runs against the production stack of tests/browser/conftest.py, like the visitors' journeys."""

import re
import time

from django.conf import settings
from playwright.sync_api import expect
from wagtail.models import Locale, Site
from wagtail_localize.models import Translation

from home.models import CampaignPage
from missions.models import Mission
from organisations.models import Organisation
from tenants import switches
from tests import factories as make
from tests.browser.support import BASE, DESKTOP, account, staff_sign_in
from tests.browser.test_journeys import email_to

MORE_ACTIONS = ".w-dropdown-button button:has(.w-sr-only)"  # the toggle beside "Save draft"
SUBMIT = "#main form button[type=submit]"  # the page's form, not the sidebar's sign-out


def test_an_editor_publishes_a_page_sends_it_to_translation_and_stays_in_their_portal(
    browser, server
):
    site = Site.objects.get(hostname="localhost")
    other = Site.objects.get(hostname="covid19.localhost")
    editor = account(make.editor, site, prefix="editor")
    home = site.root_page
    page = browser.page(viewport=DESKTOP)
    staff_sign_in(browser, page, editor, "/admin/")
    browser.see_admin(page, "editor dashboard")

    page.goto(f"{BASE}/admin/pages/add/home/campaignpage/{home.pk}/")
    browser.see_admin(page, "new campaign page")
    page.locator("#id_title").fill("Grand froid : maraudes")
    page.locator("#id_hero_text").fill("Chaque soir, des équipes vont vers les sans-abri.")
    # Wagtail copies the title into the slug (Promotion tab) after the title loses focus, a
    # moment later: publishing before that is refused for an empty slug.
    expect(page.locator("#id_slug")).to_have_value("grand-froid-maraudes")
    page.locator(MORE_ACTIONS).click()
    page.locator("button[name=action-publish]").click()
    page.wait_for_url(re.compile(rf"/admin/pages/{home.pk}/"))
    browser.see_admin(page, "page published")

    campaign = CampaignPage.objects.get(title="Grand froid : maraudes")
    assert campaign.live and campaign.locale.language_code == "fr"
    public = browser.page()
    response = public.goto(f"{BASE}{campaign.get_url_parts()[2]}")
    assert response.status == 200
    browser.see(public, "published page, public")
    assert public.get_by_role("heading", level=1).inner_text() == "Grand froid : maraudes"

    # Submit it for English translation (the page's "Translate" action).
    page.goto(f"{BASE}/admin/localize/submit/page/{campaign.pk}/")
    browser.see_admin(page, "submit for translation")
    english = Locale.objects.get(language_code="en")
    page.locator(f"input[name=locales][value='{english.pk}']").check()
    page.get_by_role("button", name="Soumettre").click()
    translation = None
    deadline = time.monotonic() + 10
    while translation is None and time.monotonic() < deadline:
        translation = campaign.get_translations().filter(locale=english).first()
        time.sleep(0.2)
    assert translation is not None
    assert Translation.objects.filter(
        source__object_id=campaign.translation_key, target_locale=english
    ).exists()
    page.wait_for_url(re.compile(rf"/admin/pages/{translation.pk}/edit/"))
    browser.see_admin(page, "English translation editor")

    # Another portal's pages: a plain 403, to read, to edit and to translate.
    theirs = other.root_page
    for path in (f"/admin/pages/{theirs.pk}/edit/", f"/admin/localize/submit/page/{theirs.pk}/"):
        response = page.goto(f"{BASE}{path}")
        assert response.status == 403, path
        browser.see_admin(page, "other portal refused", status=403)
        assert page.get_by_role("heading", level=1).inner_text() == "Accès refusé"


def test_a_moderator_validates_an_organisation_then_its_mission_from_the_queue(
    browser, server, mailbox
):
    site = Site.objects.get(hostname="localhost")
    moderator = account(make.moderator, site, prefix="moderator")
    organisation = make.organisation(
        site, status=Organisation.Status.SUBMITTED, name="Maraude du onzième"
    )
    manager = make.manager(organisation)
    mission = make.mission(organisation, status=Mission.Status.SUBMITTED, title="Maraude du soir")

    page = browser.page(viewport=DESKTOP)
    staff_sign_in(browser, page, moderator, "/admin/")
    browser.see_admin(page, "moderator dashboard")

    for queue, item, name in (
        ("organisation_queue", organisation, organisation.name),
        ("mission_queue", mission, mission.title),
    ):
        page.locator(f"a[href*='/admin/{queue}/']", has_text="attente").first.click()
        page.wait_for_url(re.compile(rf"/admin/{queue}/"))
        browser.see_admin(page, f"{queue} waiting")
        row = page.locator("tr", has_text=name)
        row.locator("button[aria-haspopup], [data-w-dropdown-target=toggle]").first.click()
        row.locator(f"a[href$='/moderate/{item.pk}/']").click()
        page.wait_for_url(re.compile(rf"/moderate/{item.pk}/"))
        browser.see_admin(page, f"{queue} decision")
        page.locator("#id_decision").select_option("validated")
        page.locator(SUBMIT).first.click()
        page.wait_for_url(re.compile(rf"/admin/{queue}/$"))
        browser.see_admin(page, f"{queue} decided")
        item.refresh_from_db()
        assert item.status == "validated", queue
        page.goto(f"{BASE}/admin/")

    for name in (organisation.name, mission.title):  # the team is told of each decision
        assert email_to(mailbox, manager.email, f"Validé : {name}")
    public = browser.page()
    response = public.goto(f"{BASE}/fr/missions/{mission.pk}/")
    assert response.status == 200
    browser.see(public, "validated mission, public")


def test_a_superuser_moves_a_portal_and_its_old_domain_redirects(browser, server):
    site = Site.objects.get(hostname="covid19.localhost")
    root = account(make.superuser, prefix="root")
    page = browser.page(viewport=DESKTOP)
    staff_sign_in(browser, page, root, "/admin/")
    settings_page = f"/admin/settings/tenants/portalsettings/{site.pk}/"
    try:
        page.goto(f"{BASE}{settings_page}")
        browser.see_admin(page, "portal settings")
        page.locator("#id_public_domain").fill("renfort.localhost")
        page.locator(SUBMIT).first.click()
        page.wait_for_load_state("load")
        browser.see_admin(page, "portal settings saved")
        site.refresh_from_db()
        assert site.hostname == "renfort.localhost"

        # Every server process sees the move within the host map's lifetime.
        visitor = browser.page()
        deadline = time.monotonic() + 10
        while True:
            response = visitor.goto("https://covid19.localhost/fr/")
            if visitor.url.startswith("https://renfort.localhost/fr/") and response.ok:
                break
            assert time.monotonic() < deadline, (visitor.url, response.status)
            time.sleep(0.5)
        # One process knows; the others do within the host map's lifetime (the request below
        # may reach any of them).
        time.sleep(settings.TENANT_HOST_MAP_TTL + 0.5)
        browser.problems[visitor].clear()  # what processes said before they all knew
        response = visitor.goto("https://covid19.localhost/fr/")
        assert response.ok and visitor.url == "https://renfort.localhost/fr/"
        assert response.request.redirected_from.url == "https://covid19.localhost/fr/"
        browser.see(visitor, "old domain redirected")
        assert visitor.get_by_role("heading", level=1).is_visible()
    finally:
        # The other tests of this stack expect the demo's domains (as the command moves back).
        switches.apply(Site.objects.get(pk=site.pk), public_domain="covid19.localhost")
