"""Template helpers whose answers are cached: pages render them on every uncached view."""

from django import template
from django.core.cache import cache

from portal.purge import content_version

register = template.Library()


@register.simple_tag(takes_context=True)
def alternates(context, page):
    """[(language, url, label)] of the page's live translations, itself included.

    Cached per page and per content version of the site (bumped by any publish), instead of
    one query for the translations and one per translation's locale on every render.
    """
    request = context["request"]
    site = request.site
    key = f"alternates:{site.pk}:{content_version(site)}:{page.pk}"
    found = cache.get(key)
    if found is None:
        pages = page.get_translations(inclusive=True).live().select_related("locale")
        found = [
            (p.locale.language_code, p.get_full_url(request), p.locale.get_display_name())
            for p in pages.order_by("locale__language_code")
        ]
        cache.set(key, found, 3600)
    return found


@register.simple_tag(takes_context=True)
def menu_children(context, page):
    """[(title, url)] of the page's live children shown in menus, cached like alternates."""
    request = context["request"]
    site = request.site
    key = f"menu:{site.pk}:{content_version(site)}:{page.pk}"
    found = cache.get(key)
    if found is None:
        found = [(c.title, c.get_url(request)) for c in page.get_children().live().in_menu()]
        cache.set(key, found, 3600)
    return found
