"""What menus, the footer and the site map list, cached under the portal's content version.

Every page renders the header menu and the footer: once warm they cost one cache read per
request and no SQL. Any publish, move or settings change bumps the version (portal/purge.py),
so the next request recomputes them.
"""

from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from portal.purge import content_version

TTL = 3600

# The applications' pages a site map lists (URL name, label), when installed.
APP_PAGES = [
    ("missions", _("Find a mission")),
    ("search", _("Search the site")),
    ("accounts:signup", _("Sign up as a volunteer")),
    ("accounts:login", _("Sign in")),
    ("accounts:space", _("My volunteer space")),
    ("organisations:home", _("Association space")),
    ("statistics", _("Statistics")),
]


def _memo(request) -> dict:
    """Kept on the request: the version is read once, and a lookup used twice costs one read."""
    memo = request.__dict__.setdefault("_portal_tags", {})
    if "version" not in memo:
        memo["version"] = content_version(request.site)
    return memo


def cached(request, kind: str, scope, compute):
    """compute() cached per site, content version and `scope` (a page id, a language)."""
    memo = _memo(request)
    if (kind, scope) not in memo:
        key = f"{kind}:{request.site.pk}:{memo['version']}:{scope}"
        found = cache.get(key)
        if found is None:
            found = compute()
            cache.set(key, found, TTL)
        memo[kind, scope] = found
    return memo[kind, scope]


def per_page(request, kind: str, page, compute):
    return cached(request, kind, page.pk, compute)


def per_language(request, kind: str, compute):
    return cached(request, kind, get_language(), compute)


def localized_root(site, locale_id: int):
    """The site's home page in that locale, or its French one when it has no translation."""
    root = site.root_page
    if root.locale_id == locale_id:
        return root
    return (
        Page.objects.filter(translation_key=root.translation_key, locale_id=locale_id).first()
        or root
    )


def page_tree(request, page) -> list[dict]:
    """The site's live public pages in `page`'s language, nested: [{title, url, children}]."""

    def compute():
        root = localized_root(request.site, page.locale_id)
        pages = Page.objects.live().public().descendant_of(root, inclusive=True).order_by("path")
        nodes, top = {}, []
        for item in pages:
            node = {"title": item.title, "url": item.get_url(request), "children": []}
            parent = item.path[: -Page.steplen]
            while parent and parent not in nodes:  # under a draft: shown under its nearest
                parent = parent[: -Page.steplen]  # live ancestor
            (nodes[parent]["children"] if parent else top).append(node)
            nodes[item.path] = node
        return top

    return per_page(request, "sitemap", page, compute)


def app_links() -> list[tuple[str, str]]:
    """[(label, url)] of the applications' pages, in the current language."""
    links = []
    for name, label in APP_PAGES:
        try:
            links.append((label, reverse(name)))
        except NoReverseMatch:  # an application this deployment does not have
            continue
    return links
