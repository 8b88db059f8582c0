"""Links editors type cannot run script, and every page carries a Content-Security-Policy."""

from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.rich_text import RichText
from wagtail.test.utils.form_data import nested_form_data, streamfield

from home import models as home_models
from home.blocks import CalloutBlock, LinkBlock, PartnerBlock, QuestionBlock, SafeRichTextBlock
from home.models import StandardPage
from portal.cache import mark
from portal.csp import PortalCSPMiddleware
from portal.wsgi import application
from tests import factories as make
from tests.test_cdn_headers import public_urls
from tests.test_pagecache import call

pytestmark = pytest.mark.django_db

BAD_LINKS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " java\tscript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
]
GOOD_LINKS = [
    "https://www.gouv.fr/",
    "http://example.org/a?b=c",
    "mailto:contact@example.org",
    "tel:+33123456789",
    "/fr/inscription/",
    "#faq",
    "page/suivante/",
]


def stream_blocks(block):
    yield block
    for child in getattr(block, "child_blocks", {}).values():
        yield from stream_blocks(child)


def every_block():
    for model in (home_models.HomePage, *home_models.PortalPage.__subclasses__()):
        for field in model._meta.get_fields():
            if isinstance(field, StreamField):
                yield from stream_blocks(field.stream_block)


def test_every_block_that_takes_a_url_checks_its_scheme():
    found = {type(b) for b in every_block()}
    assert LinkBlock in found and SafeRichTextBlock in found
    for block in every_block():
        assert not isinstance(block, blocks.URLBlock), block  # http(s) and ftp, nothing else
        if isinstance(block, blocks.RichTextBlock):
            assert isinstance(block, SafeRichTextBlock), block
        if isinstance(block, blocks.CharBlock) and any(w in block.name for w in ("url", "link")):
            if block.name != "link_text":
                assert isinstance(block, LinkBlock), block.name


@pytest.mark.parametrize("url", BAD_LINKS)
def test_script_links_are_refused_in_every_link_block(url):
    callout = CalloutBlock()
    with pytest.raises(ValidationError):
        callout.clean(callout.to_python({"title": "t", "text": "x", "link_url": url}))
    partner = PartnerBlock()
    with pytest.raises(ValidationError):
        partner.clean(partner.to_python({"name": "n", "url": url}))
    question = QuestionBlock()
    href = url.replace('"', "&quot;")
    with pytest.raises(ValidationError):
        question.clean(
            question.to_python({"question": "q", "answer": f'<p><a href="{href}">x</a></p>'})
        )


@pytest.mark.parametrize("url", GOOD_LINKS)
def test_web_mail_phone_and_relative_links_are_accepted(url):
    callout = CalloutBlock()
    callout.clean(callout.to_python({"title": "t", "text": "x", "link_url": url}))
    SafeRichTextBlock().clean(RichText(f'<p><a href="{url}">x</a></p>'))


def test_editor_gets_a_form_error_for_a_javascript_link(client, demo):
    client.force_login(make.superuser())
    page = StandardPage.objects.live().descendant_of(demo["localhost"].root_page).first()
    callout = {"title": "Agir", "text": "Inscrivez-vous", "link_text": "Go"}
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "intro": page.intro,
            "body": streamfield(
                [("callout", {**callout, "link_url": "javascript:alert(document.cookie)"})]
            ),
            "action-publish": "publish",
        }
    )
    response = client.post(f"/admin/pages/{page.pk}/edit/", data, HTTP_HOST="localhost")
    assert response.status_code == 200
    assert "Links may only start with" in response.text or "Les liens" in response.text
    assert "javascript:" not in str(StandardPage.objects.get(pk=page.pk).body.raw_data)

    data["body-0-value-link_url"] = "https://www.gouv.fr/"
    response = client.post(f"/admin/pages/{page.pk}/edit/", data, HTTP_HOST="localhost")
    assert response.status_code == 302
    assert "https://www.gouv.fr/" in str(StandardPage.objects.get(pk=page.pk).body.raw_data)


def test_a_stored_script_link_is_not_rendered(client, demo):
    """Content saved before the check existed is not re-validated: templates drop the link."""
    page = StandardPage.objects.live().descendant_of(demo["localhost"].root_page).first()
    page.body = [("callout", {"title": "T", "text": "x", "link_url": "javascript:alert(1)"})]
    page.save_revision().publish()
    text = client.get(page.get_url(), HTTP_HOST="localhost").text
    assert "javascript:" not in text and "T</h3>" in text


class PageParts(HTMLParser):
    """Inline scripts, inline handlers and inline styles: what a strict policy blocks."""

    def __init__(self):
        super().__init__()
        self.problems, self.scripts, self.in_script = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        handlers = [name for name in attrs if name.startswith("on")]
        if handlers:
            self.problems.append(f"<{tag} {handlers}>")
        if "style" in attrs:
            self.problems.append(f"<{tag} style=>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script":
            self.in_script = attrs
            self.scripts.append(attrs)
            kind = attrs.get("type") or "text/javascript"
            if "src" not in attrs and kind not in ("application/ld+json", "application/json"):
                self.problems.append("inline <script>")
            if attrs.get("src") and not attrs["src"].startswith("/"):
                self.problems.append(f"script from {attrs['src']}")
        for name in ("href", "src", "action"):
            if (attrs.get(name) or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"{name}=javascript:")


def directives(header: str) -> dict[str, list[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_strict_public_policy(response, url):
    header = response.get("Content-Security-Policy", "")
    policy = directives(header)
    assert policy.get("default-src") == ["'self'"], (url, header)
    assert policy.get("script-src") == ["'self'"], (url, header)  # no nonce, no unsafe-*
    assert policy.get("style-src") == ["'self'"], (url, header)
    assert policy.get("object-src") == ["'none'"] and policy.get("base-uri") == ["'self'"]
    assert policy.get("frame-ancestors") == ["'none'"]
    assert "nonce" not in header and "unsafe" not in header, (url, header)
    parser = PageParts()
    parser.feed(response.content.decode())
    assert parser.problems == [], (url, parser.problems)
    assert not any("nonce" in script for script in parser.scripts), url


@pytest.mark.parametrize("hostname", ["localhost", "covid19.localhost"])
def test_every_public_page_has_a_strict_policy_and_nothing_inline(client, demo, hostname):
    urls = [u for u in public_urls(demo[hostname]) if not u.endswith((".txt", ".xml"))] + [
        "/fr/missions/",
        "/en/missions/?q=aide",
        "/en/search/?query=help",
    ]
    assert len(urls) >= 8
    for url in urls:
        response = client.get(url, HTTP_HOST=hostname)
        assert response.status_code == 200, url
        assert response["Cache-Control"].startswith("public"), url
        assert_strict_public_policy(response, url)
    missing = client.get("/fr/cette-page-n-existe-pas/", HTTP_HOST=hostname)
    assert missing.status_code == 404
    assert_strict_public_policy(missing, "404")


def test_api_docs_load_nothing_from_other_origins(client, demo):
    response = client.get("/api/v1/docs", HTTP_HOST="localhost")
    assert response.status_code == 200
    parser = PageParts()
    parser.feed(response.content.decode())
    assert parser.problems == [] and parser.scripts, parser.problems
    assert "cdn.jsdelivr.net" not in response.text and "django-ninja.dev" not in response.text
    assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_faq_structured_data_is_a_data_block_not_a_script(client, demo):
    text = client.get("/fr/questions-frequentes/", HTTP_HOST="localhost").text
    assert '<script type="application/ld+json">{"@context": "https://schema.org"' in text


def test_signup_script_is_a_same_origin_file(client, demo):
    text = client.get("/fr/inscription/", HTTP_HOST="localhost").text
    assert '<script src="/static/accounts/signup.js" defer></script>' in text
    script = client.get("/static/accounts/signup.js", HTTP_HOST="localhost")
    assert script.status_code in (200, 404)  # served by nginx/whitenoise in production


def test_the_page_cache_replays_the_header_it_stored_with_the_body(demo):
    application.memory.clear()
    application.versions.clear()
    status, first_headers, first = call("/fr/questions-frequentes/")
    status2, headers, again = call("/fr/questions-frequentes/")
    assert headers.get("X-Cache") == "HIT" and again == first
    assert headers["Content-Security-Policy"] == first_headers["Content-Security-Policy"]
    assert "nonce" not in headers["Content-Security-Policy"] and b"nonce" not in again


def test_a_page_that_uses_a_nonce_is_never_shared(demo):
    """Its header and body hold a per-visitor secret: replayed from a cache, it is no longer
    one. The middleware turns such a response private, so no cache stores it."""

    def view(request):
        body = f'<script nonce="{request.csp_nonce}">1</script>'
        return mark(request, HttpResponse(body))

    request = RequestFactory().get("/fr/", HTTP_HOST="localhost")
    middleware = PortalCSPMiddleware(view)
    response = middleware(request)
    nonce = request._csp_nonce
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]

    plain = PortalCSPMiddleware(lambda r: mark(r, HttpResponse("x")))(RequestFactory().get("/"))
    assert plain["Cache-Control"].startswith("public")
    assert "nonce" not in plain["Content-Security-Policy"]


def test_private_pages_get_the_strict_policy_too(client, demo):
    client.force_login(make.user())
    for url in ["/fr/espace/", "/fr/", "/fr/espace-association/"]:
        response = client.get(url, HTTP_HOST="localhost", follow=True)
        assert response.status_code == 200, url
        header = response["Content-Security-Policy"]
        assert "unsafe" not in header and directives(header)["object-src"] == ["'none'"], url
        parser = PageParts()
        parser.feed(response.content.decode())
        assert parser.problems == [], (url, parser.problems)


def test_admin_has_a_policy_it_can_live_with(client, demo):
    client.force_login(make.superuser())
    page = Page.objects.get(pk=demo["localhost"].root_page_id)
    for url in ["/admin/", "/admin/pages/", f"/admin/pages/{page.pk}/edit/", "/admin/login/"]:
        response = client.get(url, HTTP_HOST="localhost")
        assert response.status_code in (200, 302), url
        policy = directives(response["Content-Security-Policy"])
        # Wagtail's own inline scripts and styles, and nothing from other origins.
        assert policy["script-src"] == ["'self'", "'unsafe-inline'"], url
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"], url
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'self'"]
        assert "nonce" not in response["Content-Security-Policy"], url
        assert "gravatar" not in response.content.decode(), url
        assert "w-upgrade" not in response.content.decode(), url  # no releases.wagtail.org
