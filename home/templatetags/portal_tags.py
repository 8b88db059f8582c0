"""Template helpers whose answers are cached: pages render them on every uncached view."""

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.html import json_script
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from wagtail.models import Page

from home import footer
from home.blocks import link_scheme_allowed
from home.navigation import per_page

register = template.Library()


@register.simple_tag(takes_context=True)
def alternates(context, page):
    """[(language, url, label)] of the page's live translations, itself included."""
    request = context["request"]

    def compute():
        pages = page.get_translations(inclusive=True).live().select_related("locale")
        return [
            (p.locale.language_code, p.get_full_url(request), p.locale.get_display_name())
            for p in pages.order_by("locale__language_code")
        ]

    return per_page(request, "alternates", page, compute)


@register.simple_tag(takes_context=True)
def language_switch(context):
    """[(language, url, label)] of the other languages, keeping the page: a Wagtail page's
    live translations; elsewhere the same view under the other language's prefix."""
    request, page, current = context.get("request"), context.get("page"), get_language()
    if request is None:  # rendered outside a request (an email, a test): no page to keep
        return []
    if isinstance(page, Page):
        return [entry for entry in alternates(context, page) if entry[0] != current]
    # Only the parameters the page cache keys on: any other (utm_*...) would be stored in a
    # page other visitors get.
    params = settings.PAGE_CACHE_QUERY_PARAMS
    kept = [(k, v) for k, values in request.GET.lists() if k in params for v in values]
    path = request.path + (f"?{urlencode(kept)}" if kept else "")
    return [
        (language, translate_url(path, language), label)
        for language, label in settings.LANGUAGES
        if language != current
    ]


@register.simple_tag(takes_context=True)
def portal_links(context):
    """The header menu's and the footer's links of this portal, in this language (cached)."""
    return footer.portal_links(context.get("request"))


@register.simple_tag(takes_context=True)
def menu_children(context, page):
    """[(title, url)] of the page's live children shown in menus."""
    request = context["request"]

    def compute():
        return [
            (c.title, c.get_url(request)) for c in page.get_children().live().public().in_menu()
        ]

    return per_page(request, "menu", page, compute)


@register.filter
def safe_link(url):
    """The URL if its scheme is allowed, else "": content saved before the block check existed
    is not re-validated, so templates check again at render time."""
    return url if url and link_scheme_allowed(str(url)) else ""


@register.filter
def ld_json(value):
    """A schema.org JSON-LD block. A data block, not a script: CSP does not run or block it,
    so public pages need no inline script (and no nonce) to carry structured data."""
    # Django's json_script escapes for a <script> body; only the type differs.
    return mark_safe(
        json_script(value).replace('type="application/json"', 'type="application/ld+json"', 1)
    )
