"""Each campaign portal answers on its own hostname, and only there."""

import pytest
from wagtail.models import Locale, Page
from wagtail_localize.models import TranslationSource

from home.models import HomePage, StandardPage
from tenants import hosts
from tenants.models import SiteAlias
from tests import factories as make

pytestmark = pytest.mark.django_db


def test_each_host_serves_its_own_home_page(client, demo):
    national = client.get("/fr/", HTTP_HOST="localhost")
    campaign = client.get("/fr/", HTTP_HOST="covid19.localhost")
    assert national.status_code == campaign.status_code == 200
    assert "Engagez-vous près de chez vous" in national.text
    assert "Face à la crise, la solidarité" in campaign.text
    assert "Face à la crise" not in national.text


def test_english_translation_served_under_en_prefix(client, demo):
    response = client.get("/en/", HTTP_HOST="covid19.localhost")
    assert response.status_code == 200
    assert "Solidarity in the crisis" in response.text
    assert 'lang="en"' in response.text


def test_host_with_port_resolves_like_the_bare_hostname(client, demo):
    assert client.get("/fr/", HTTP_HOST="covid19.localhost:8000").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1"])
def test_unknown_host_is_answered_400_not_the_default_site(client, demo, host):
    response = client.get("/fr/", HTTP_HOST=host)
    assert response.status_code == 400
    assert "Je veux aider" not in response.text


def test_health_is_answered_for_any_host(client, demo):
    assert client.get("/healthz", HTTP_HOST="10.0.0.7").status_code == 200


def test_alias_redirects_to_its_own_site_only(client, demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        SiteAlias.objects.create(site=demo["covid19.localhost"], hostname="Old-Covid.localhost")
    get = client.get("/fr/page/?a=1&b=2", HTTP_HOST="old-covid.localhost")
    assert get.status_code == 301
    assert get["Location"] == "http://covid19.localhost/fr/page/?a=1&b=2"
    post = client.post("/fr/page/", HTTP_HOST="old-covid.localhost")
    assert post.status_code == 308


def test_host_map_change_is_seen_after_commit(demo, django_capture_on_commit_callbacks):
    assert hosts.lookup("new-domain.localhost") is None
    with django_capture_on_commit_callbacks(execute=True):
        SiteAlias.objects.create(site=demo["localhost"], hostname="new-domain.localhost")
    entry = hosts.lookup("new-domain.localhost")
    assert entry.is_alias and entry.site_id == demo["localhost"].pk


@pytest.fixture
def editor_of(demo):
    """editor_of(hostname): a new editor of that portal."""
    return lambda hostname: make.editor(demo[hostname])


def _pages(site):
    home = site.root_page.specific
    child = home.get_children().first()
    return home, child


def test_editor_can_edit_own_portal_pages(client, demo, editor_of):
    client.force_login(editor_of("localhost"))
    home, child = _pages(demo["localhost"])
    english_home = home.get_translations().get()
    for page in (home, child, english_home):
        response = client.get(f"/admin/pages/{page.pk}/edit/", HTTP_HOST="localhost")
        assert response.status_code == 200, page


XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def assert_denied(client, method, url, data=None):
    """403 for scripts and for browsers alike (not Wagtail's redirect to the dashboard)."""
    send = getattr(client, method)
    scripted = send(url, data or {}, HTTP_HOST="localhost", **XHR)
    assert scripted.status_code == 403
    browser = send(url, data or {}, HTTP_HOST="localhost")
    assert browser.status_code == 403
    # In the admin's look (portal.errors.permission_denied), saying why.
    assert "wagtailadmin/css/core" in browser.text and "Accès refusé" in browser.text


def test_editor_cannot_edit_or_publish_another_portals_pages(client, demo, editor_of):
    client.force_login(editor_of("localhost"))
    home, child = _pages(demo["covid19.localhost"])
    for page in (home, child, home.get_translations().get()):
        before = Page.objects.get(pk=page.pk).latest_revision_id
        assert_denied(client, "get", f"/admin/pages/{page.pk}/edit/")
        assert_denied(
            client,
            "post",
            f"/admin/pages/{page.pk}/edit/",
            {"title": "Hijacked", "slug": page.slug, "action-publish": "publish"},
        )
        assert_denied(client, "post", f"/admin/pages/{page.pk}/unpublish/")
        page.refresh_from_db()
        assert page.title != "Hijacked" and page.live
        assert page.latest_revision_id == before
    assert_denied(client, "get", f"/admin/pages/add/home/standardpage/{home.pk}/")


def test_editor_publish_on_own_portal_goes_live(client, demo, editor_of):
    client.force_login(editor_of("covid19.localhost"))
    home = HomePage.objects.get(pk=demo["covid19.localhost"].root_page_id)
    response = client.get(f"/admin/pages/{home.pk}/edit/", HTTP_HOST="covid19.localhost")
    assert response.status_code == 200
    assert "action-publish" in response.text


def new_french_page(site, slug: str) -> StandardPage:
    """A page of the portal that has no English version yet."""
    home = site.root_page.specific
    return home.add_child(instance=StandardPage(title=f"Page {slug}", slug=slug))


def test_editor_submits_own_pages_for_translation_and_no_other_portals(client, demo, editor_of):
    """wagtail-localize checks only its global permission: the portal's boundary is ours
    (tenants.middleware.TranslationScopeMiddleware)."""
    client.force_login(editor_of("localhost"))
    english = Locale.objects.get(language_code="en")
    own = new_french_page(demo["localhost"], "a-traduire")
    other = new_french_page(demo["covid19.localhost"], "pas-a-moi")

    form = client.get(f"/admin/localize/submit/page/{own.pk}/", HTTP_HOST="localhost")
    assert form.status_code == 200
    sent = client.post(
        f"/admin/localize/submit/page/{own.pk}/", {"locales": [english.pk]}, HTTP_HOST="localhost"
    )
    assert sent.status_code == 302
    assert own.get_translations().filter(locale=english).exists()

    assert_denied(client, "get", f"/admin/localize/submit/page/{other.pk}/")
    assert_denied(
        client, "post", f"/admin/localize/submit/page/{other.pk}/", {"locales": [english.pk]}
    )
    assert not other.get_translations().filter(locale=english).exists()
    # Syncing translations goes through the source: another portal's is refused too.
    source, _ = TranslationSource.get_or_create_from_instance(other)
    assert_denied(client, "get", f"/admin/localize/update/{source.pk}/")
    mine, _ = TranslationSource.get_or_create_from_instance(own)
    assert (
        client.get(f"/admin/localize/update/{mine.pk}/", HTTP_HOST="localhost").status_code == 200
    )
