"""Template helpers whose answers are cached: pages render them on every uncached view."""

from django import template
from django.core.cache import cache

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
        return [(c.title, c.get_url(request)) for c in page.get_children().live().in_menu()]

    return per_page(request, "menu", page, compute)
