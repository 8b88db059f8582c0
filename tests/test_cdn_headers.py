"""Every anonymous public page can be kept by a CDN; nothing personal ever is."""

import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from wagtail.models import Page

from home.models import HomePage, StandardPage
from portal.cache import DefaultPrivateMiddleware, public_header
from tests import factories as make

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
# Templates rendered by public (cacheable) views.
CACHEABLE_TEMPLATES = [
    *sorted((ROOT / "home" / "templates").rglob("*.html")),
    ROOT / "portal" / "templates" / "base.html",
    ROOT / "portal" / "templates" / "404.html",
    ROOT / "search" / "templates" / "search" / "search.html",
    ROOT / "missions" / "templates" / "missions" / "mission.html",
    ROOT / "organisations" / "templates" / "organisations" / "organisation.html",
    ROOT / "accounts" / "templates" / "accounts" / "signup.html",
    *sorted((ROOT / "portal" / "templates" / "forms").rglob("*.html")),  # the signup form's
]


def public_urls(site):
    urls = []
    for root in site.root_page.get_translations(inclusive=True):
        for page in Page.objects.live().descendant_of(root, inclusive=True):
            urls.append(page.get_url(current_site=site))
    return urls + [
        "/fr/inscription/",
        "/en/inscription/",
        "/fr/statistiques/",
        "/en/statistiques/",
        "/robots.txt",
        "/sitemap.xml",
        "/fr/search/?query=mission",
    ]


def assert_public(response, url):
    assert response.status_code == 200, url
    control = response["Cache-Control"]
    assert control.startswith("public"), (url, control)
    assert re.search(r"s-maxage=\d+", control) and re.search(r"stale-while-revalidate=\d+", control)
    assert "Set-Cookie" not in response.headers and not response.cookies, url
    assert "Cookie" not in response.get("Vary", ""), url
    assert b'csrfmiddlewaretoken" value="' + b"x" not in response.content


@pytest.mark.parametrize("hostname", ["localhost", "covid19.localhost"])
def test_every_public_page_is_cacheable_for_anonymous_visitors(client, demo, hostname):
    urls = public_urls(demo[hostname])
    assert len(urls) >= 8
    for url in urls:
        response = client.get(url, HTTP_HOST=hostname)
        assert_public(response, url)
        assert not re.search(rb'name="csrfmiddlewaretoken" value="[^"]+"', response.content), url


@pytest.mark.parametrize("hostname", ["localhost", "covid19.localhost"])
def test_signed_in_visitors_get_the_same_public_pages_and_a_private_space(client, demo, hostname):
    # Public pages render nothing of the visitor (the header's account area is filled in by
    # script): the same cacheable page for all. The space, which shows them, is private.
    client.force_login(make.user())
    for url in public_urls(demo[hostname])[:4]:
        assert_public(client.get(url, HTTP_HOST=hostname), url)
    response = client.get("/fr/espace/", HTTP_HOST=hostname)
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_admin_and_api_are_private(client, demo):
    client.force_login(make.superuser())
    for url in ["/admin/", "/admin/pages/", "/api/v1/csrf", "/healthz"]:
        response = client.get(url, HTTP_HOST="localhost", follow=True)
        assert "no-store" in response["Cache-Control"], url


@pytest.mark.parametrize("template", CACHEABLE_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_cacheable_template_renders_a_csrf_token(template):
    # A CSRF token in a cached page is a cookie set for everyone and a stale token for all.
    assert not re.search(r"{%\s*csrf_token", template.read_text()), template


def test_faq_page_has_structured_data(client, demo):
    response = client.get("/fr/questions-frequentes/", HTTP_HOST="localhost")
    assert '"@type": "FAQPage"' in response.text
    assert "Faut-il des compétences particulières ?" in response.text


def test_pages_have_canonical_hreflang_and_opengraph(client, demo):
    text = client.get("/fr/comment-ca-marche/", HTTP_HOST="localhost").text
    assert '<link rel="canonical" href="http://localhost/fr/comment-ca-marche/">' in text
    assert 'hreflang="en" href="http://localhost/en/comment-ca-marche/"' in text
    assert 'hreflang="x-default"' in text
    assert '<meta property="og:title" content="Comment ça marche ?">' in text


def test_robots_and_sitemap_are_per_portal(client, demo):
    robots = client.get("/robots.txt", HTTP_HOST="covid19.localhost").text
    assert "Sitemap: http://covid19.localhost/sitemap.xml" in robots
    assert "Disallow: /admin/" in robots
    sitemap = client.get("/sitemap.xml", HTTP_HOST="covid19.localhost").text
    assert "http://covid19.localhost/fr/gestes-barrieres/" in sitemap
    assert "http://localhost/" not in sitemap


def test_home_page_shows_live_figures_and_missions(client, demo):
    text = client.get("/fr/", HTTP_HOST="localhost").text
    assert "missions ouvertes" in text and "Trier les denrées collectées" in text
    assert "Lire les appels" not in text


def test_cached_menus_and_alternates_follow_a_publish(
    client, demo, django_capture_on_commit_callbacks
):
    assert "Nouvelle page du menu" not in client.get("/fr/", HTTP_HOST="localhost").text
    home = HomePage.objects.get(pk=demo["localhost"].root_page_id)
    with django_capture_on_commit_callbacks(execute=True):
        page = home.add_child(
            instance=StandardPage(
                title="Nouvelle page du menu", slug="nouvelle", show_in_menus=True
            )
        )
        page.save_revision().publish()
    assert "Nouvelle page du menu" in client.get("/fr/", HTTP_HOST="localhost").text
    # No English translation yet: the French page offers no English alternate.
    text = client.get("/fr/nouvelle/", HTTP_HOST="localhost").text
    assert 'hreflang="en"' not in text and 'hreflang="fr"' in text


def public_response(request, spoil=None):
    response = HttpResponse("hello")
    response["Cache-Control"] = public_header()
    if spoil == "vary":
        response["Vary"] = "Accept-Language, Cookie"
    elif spoil == "cookie":
        response.set_cookie("anything", "1")
    return response


@pytest.mark.parametrize("spoil", ["vary", "cookie"])
def test_a_public_response_that_read_the_session_or_set_a_cookie_leaves_private(spoil):
    guard = DefaultPrivateMiddleware(lambda request: public_response(request, spoil))
    response = guard(RequestFactory().get("/"))
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert (
        DefaultPrivateMiddleware(public_response)(RequestFactory().get("/"))["Cache-Control"]
        == public_header()
    )
