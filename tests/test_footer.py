"""The footer the State's design system requires (accessibility, legal notice, personal data,
site map: editor-managed pages of each portal), the skip links, and the language switcher."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import GroupSitePermission, Locale, Page

from home import footer
from home.models import AccessibilityPage, FooterSettings, SiteMapPage, StandardPage
from portal.demo import load_demo
from tenants.portals import editors_group
from tests import factories as make

pytestmark = pytest.mark.django_db

LINKS = {
    "accessibility_page": "footer-accessibility",
    "legal_page": "footer-legal",
    "personal_data_page": "footer-personal-data",
    "sitemap_page": "footer-sitemap",
}
COMPLIANCE = {
    "fr": "Accessibilité : partiellement conforme",
    "en": "Accessibility: partially compliant",
}
APP_PAGES = ["inscription/", "missions/", "search/?query=mission", "compte/connexion/"]


def link(html: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}" href="([^"]*)"', html)
    return found.group(1) if found else None


def switcher(html: str) -> list[str]:
    return re.findall(r'class="fr-btn fr-icon-translate-2" href="([^"]*)"', html)


def expected_links(site, language: str) -> dict:
    """Each footer page of the portal in `language`, as its URL on the portal."""
    chosen = FooterSettings.for_site(site)
    locale = Locale.objects.get(language_code=language)
    urls = {}
    for field, element_id in LINKS.items():
        page = getattr(chosen, field).get_translation(locale)
        urls[element_id] = page.get_url(current_site=site)
    return urls


def pages_of(site):
    """Every live page of the portal, in both languages: all the public page types."""
    return [
        (page.locale.language_code, page.get_url(current_site=site))
        for root in site.root_page.get_translations(inclusive=True)
        for page in Page.objects.live().descendant_of(root, inclusive=True).select_related("locale")
    ]


@pytest.mark.parametrize("hostname", ["localhost", "covid19.localhost"])
def test_every_public_page_has_the_footer_the_skip_links_and_their_targets(client, demo, hostname):
    site = demo[hostname]
    urls = pages_of(site) + [
        (lang, f"/{lang}/{path}") for lang in ("fr", "en") for path in APP_PAGES
    ]
    kinds = {type(page.specific).__name__ for page in Page.objects.descendant_of(site.root_page)}
    assert {"AccessibilityPage", "SiteMapPage", "StandardPage"} <= kinds
    expected = {lang: expected_links(site, lang) for lang in ("fr", "en")}
    for language, url in urls:
        html = client.get(url, HTTP_HOST=hostname).text
        for element_id, href in expected[language].items():
            assert link(html, element_id) == href, (url, element_id)
        assert COMPLIANCE[language] in html, url
        assert 'class="fr-skiplinks"' in html
        for target in ("content", "header-navigation", "footer"):
            assert f'href="#{target}"' in html and f'id="{target}"' in html, (url, target)
        assert "https://www.service-public.gouv.fr" in html and "https://www.info.gouv.fr" in html


def test_each_portal_links_to_its_own_pages(client, demo):
    """Same slugs on both portals: the links must still be each portal's own pages."""
    covid = demo["covid19.localhost"]
    own = covid.root_page.add_child(instance=StandardPage(title="Mentions Covid", slug="mentions"))
    own.save_revision().publish()
    footer = FooterSettings.for_site(covid)
    footer.legal_page = own
    footer.save()

    covid_html = client.get("/fr/", HTTP_HOST="covid19.localhost").text
    national_html = client.get("/fr/", HTTP_HOST="localhost").text
    assert link(covid_html, "footer-legal") == "/fr/mentions/"
    assert link(national_html, "footer-legal") == "/fr/mentions-legales/"
    # The English footer falls back to the French page while it has no translation.
    assert link(client.get("/en/", HTTP_HOST="covid19.localhost").text, "footer-legal") == (
        "/fr/mentions/"
    )


def test_a_page_of_another_portal_is_refused_in_the_admin_and_never_linked(client, demo):
    national, covid = demo["localhost"], demo["covid19.localhost"]
    foreign = FooterSettings.for_site(national).legal_page
    client.force_login(make.editor(covid))
    url = f"/admin/settings/home/footersettings/{covid.pk}/"
    chosen = FooterSettings.for_site(covid)
    data = {field: getattr(chosen, f"{field}_id") for field in FooterSettings.PAGES}
    page = client.get(url, HTTP_HOST="localhost", follow=True)
    assert page.status_code == 200 and 'name="legal_page"' in page.text

    answer = client.post(url, {**data, "legal_page": foreign.pk}, HTTP_HOST="localhost")
    assert answer.status_code == 200 and "Choisissez une page de ce portail." in answer.text
    assert FooterSettings.for_site(covid).legal_page_id == chosen.legal_page_id

    # Saved behind the form's back (a shell, a script): the footer still drops it.
    FooterSettings.objects.filter(site=covid).update(legal_page=foreign)
    html = client.get("/fr/", HTTP_HOST="covid19.localhost").text
    assert link(html, "footer-legal") is None and "Mentions légales" not in html


def test_editors_choose_their_own_portals_footer_pages_only(client, demo):
    national, covid = demo["localhost"], demo["covid19.localhost"]
    client.force_login(make.editor(national))
    chosen = FooterSettings.for_site(national)
    data = {field: getattr(chosen, f"{field}_id") for field in FooterSettings.PAGES}
    own = client.post(
        f"/admin/settings/home/footersettings/{national.pk}/",
        {**data, "legal_page": ""},
        HTTP_HOST="localhost",
    )
    assert own.status_code == 302
    assert FooterSettings.for_site(national).legal_page is None
    assert link(client.get("/fr/", HTTP_HOST="localhost").text, "footer-legal") is None

    other = client.post(
        f"/admin/settings/home/footersettings/{covid.pk}/",
        {**data, "legal_page": ""},
        HTTP_HOST="localhost",
    )
    assert other.status_code == 403
    assert FooterSettings.for_site(covid).legal_page_id is not None


def test_the_compliance_level_is_the_statements(client, demo, django_capture_on_commit_callbacks):
    site = demo["localhost"]
    statement = FooterSettings.for_site(site).accessibility_page
    assert "partiellement conforme" in client.get("/fr/", HTTP_HOST="localhost").text
    statement.compliance = AccessibilityPage.Compliance.FULL
    with django_capture_on_commit_callbacks(execute=True):  # the purge runs after commit
        statement.save_revision().publish()
    html = client.get("/fr/comment-ca-marche/", HTTP_HOST="localhost").text
    assert "Accessibilité : totalement conforme" in html

    with django_capture_on_commit_callbacks(execute=True):
        statement.unpublish()
    html = client.get("/fr/comment-ca-marche/", HTTP_HOST="localhost").text
    # No statement published: the site says it is non compliant, without a link.
    assert "Accessibilité : non conforme" in html and link(html, "footer-accessibility") is None


def test_the_accessibility_statement_states_its_level(client, demo):
    response = client.get("/fr/accessibilite/", HTTP_HOST="localhost")
    html = response.text
    assert response.status_code == 200
    assert "Je veux aider est <strong>partiellement conforme</strong>" in html
    assert "Contenus non encore audités" in html and "27 novembre 2026" in html
    english = client.get("/en/accessibilite/", HTTP_HOST="localhost").text
    assert "Je veux aider is <strong>partially compliant</strong>" in english
    assert "Content not yet audited" in english
    assert_clean_first_load(html)


def test_the_site_map_lists_this_portals_pages_in_its_language(client, demo):
    national = client.get("/fr/plan-du-site/", HTTP_HOST="localhost").text
    pages = national.split('id="site-map-pages"')[1].split("</div>")[0]
    assert "Comment ça marche ?" in pages and "La plateforme est ouverte" in pages
    assert "Mentions légales" in pages and "Les gestes barrières en mission" not in pages
    assert "How does it work?" not in pages
    services = national.split('id="site-map-services"')[1].split("</ul>")[0]
    for url in ("/fr/missions/", "/fr/search/", "/fr/inscription/", "/fr/espace-association/"):
        assert f'href="{url}"' in services
    assert_clean_first_load(national)

    english = client.get("/en/plan-du-site/", HTTP_HOST="localhost").text
    pages = english.split('id="site-map-pages"')[1].split("</div>")[0]
    assert "How does it work?" in pages and "Comment ça marche ?" not in pages
    assert 'href="/en/inscription/"' in english

    covid = client.get("/fr/plan-du-site/", HTTP_HOST="covid19.localhost").text
    pages = covid.split('id="site-map-pages"')[1].split("</div>")[0]
    assert "Les gestes barrières en mission" in pages and "Comment ça marche ?" not in pages


def test_the_site_map_follows_publication(client, demo, django_capture_on_commit_callbacks):
    site = demo["localhost"]
    client.get("/fr/plan-du-site/", HTTP_HOST="localhost")
    page = site.root_page.add_child(instance=StandardPage(title="Nouvelle page", slug="nouvelle"))
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    assert "Nouvelle page" in client.get("/fr/plan-du-site/", HTTP_HOST="localhost").text
    with django_capture_on_commit_callbacks(execute=True):
        page.unpublish()
    assert "Nouvelle page" not in client.get("/fr/plan-du-site/", HTTP_HOST="localhost").text


def test_the_language_switcher_keeps_the_page(client, demo):
    html = client.get("/fr/comment-ca-marche/", HTTP_HOST="localhost").text
    assert switcher(html) == ["http://localhost/en/comment-ca-marche/"]
    html = client.get("/en/accessibilite/", HTTP_HOST="localhost").text
    assert switcher(html) == ["http://localhost/fr/accessibilite/"]
    assert switcher(client.get("/fr/inscription/", HTTP_HOST="localhost").text) == [
        "/en/inscription/"
    ]
    assert switcher(client.get("/en/compte/connexion/", HTTP_HOST="localhost").text) == [
        "/fr/compte/connexion/"
    ]
    # The search keeps its query; parameters the page cache ignores are dropped, else the
    # cached page would hand one visitor's utm_source to everyone.
    html = client.get("/fr/missions/?q=tri&remote=true&utm_source=tv", HTTP_HOST="localhost").text
    assert switcher(html) == ["/en/missions/?q=tri&amp;remote=true"]


def test_the_main_menu_lists_the_portals_menu_pages(client, demo):
    html = client.get("/fr/", HTTP_HOST="localhost").text
    menu = html.split('id="header-navigation"')[1].split("</nav>")[0]
    assert 'href="/fr/missions/"' in menu and "Comment ça marche ?" in menu
    assert "Mentions légales" not in menu
    covid = client.get("/en/", HTTP_HOST="covid19.localhost").text
    menu = covid.split('id="header-navigation"')[1].split("</nav>")[0]
    assert "Protective measures on a mission" in menu and "How does it work?" not in menu


@pytest.mark.parametrize("url", ["/fr/comment-ca-marche/", "/en/inscription/", "/fr/plan-du-site/"])
def test_the_footer_and_menu_cost_no_query_once_warm(client, demo, url, monkeypatch):
    client.get(url, HTTP_HOST="localhost")
    with CaptureQueriesContext(connection) as warm:
        html = client.get(url, HTTP_HOST="localhost").text
    assert link(html, "footer-legal")
    # The same request with the footer's lookup replaced by a constant: no fewer queries.
    monkeypatch.setattr(footer, "portal_links", lambda request: footer.NO_LINKS)
    with CaptureQueriesContext(connection) as without:
        html = client.get(url, HTTP_HOST="localhost").text
    assert link(html, "footer-legal") is None
    assert [q["sql"] for q in warm] == [q["sql"] for q in without]


def test_the_footer_lookup_is_one_cache_read_when_warm(rf, demo):
    site = demo["localhost"]

    def lookup():
        request = rf.get("/fr/", HTTP_HOST="localhost")
        request.site = site
        with CaptureQueriesContext(connection) as queries:
            links = footer.portal_links(request)
        return links, len(queries)

    cold, cold_queries = lookup()
    warm, warm_queries = lookup()
    assert cold_queries > 0 and warm_queries == 0 and warm == cold
    assert warm["legal"] == "/fr/mentions-legales/" and warm["menu"]


def test_demo_creates_the_footer_pages_for_both_portals_and_keeps_editors_choices(demo):
    for site in demo.values():
        footer = FooterSettings.for_site(site)
        for field in FooterSettings.PAGES:
            page = getattr(footer, field)
            assert page is not None and page.live and page.path.startswith(site.root_page.path)
            english = page.get_translation(Locale.objects.get(language_code="en"))
            assert english.live and english.title != page.title
        assert footer.accessibility_page.compliance == AccessibilityPage.Compliance.PARTIAL
        assert isinstance(footer.sitemap_page, SiteMapPage)

    site = demo["covid19.localhost"]
    chosen = site.root_page.add_child(instance=StandardPage(title="Mentions", slug="a-nous"))
    FooterSettings.objects.filter(site=site).update(legal_page=chosen)
    pages = Page.objects.count()
    load_demo()
    assert Page.objects.count() == pages
    assert FooterSettings.for_site(site).legal_page_id == chosen.pk


def assert_clean_first_load(html: str) -> None:
    """Every form control carries its DSFR class; no error shows on a first visit."""
    for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' not in control:
            assert re.search(r'class="[^"]*fr-', control), control
    assert "fr-error-text" not in html and "fr-alert--error" not in html


def test_existing_editors_groups_get_the_footer_right(demo):
    """The migration grants what tenants.portals gives new portals: this site only."""
    migration = importlib.import_module("home.migrations.0005_editors_edit_footer_pages")
    rights = GroupSitePermission.objects.filter(permission__codename="change_footersettings")
    rights.delete()
    migration.grant(apps, None)
    for site in demo.values():
        assert list(rights.filter(group=editors_group(site)).values_list("site", flat=True)) == [
            site.pk
        ]
