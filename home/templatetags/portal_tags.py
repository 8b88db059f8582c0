"""Template helpers whose answers are cached: pages render them on every uncached view."""

from django import template
from django.core.cache import cache
from django.utils.html import json_script
from django.utils.safestring import mark_safe

from home.blocks import link_scheme_allowed
from portal.purge import content_version

register = template.Library()


def per_page(request, kind: str, page, compute):
    """Cached per page under the site's content version (bumped by any publish), and kept on
    the request: the version is read once and a tag used twice costs one lookup."""
    memo = request.__dict__.setdefault("_portal_tags", {})
    if "version" not in memo:
        memo["version"] = content_version(request.site)
    if (kind, page.pk) not in memo:
        key = f"{kind}:{request.site.pk}:{memo['version']}:{page.pk}"
        found = cache.get(key)
        if found is None:
            found = compute()
            cache.set(key, found, 3600)
        memo[kind, page.pk] = found
    return memo[kind, page.pk]


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
