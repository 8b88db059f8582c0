import hashlib

from django.core.cache import cache
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from wagtail.models import Page

from portal.cache import public_cache
from tenants.models import PortalSettings

from . import page as search_page
from .missions import InvalidSearch, parse
from .missions import search as search_missions

RESULTS_TTL = 60


@public_cache
def search(request):
    """Site pages of the current portal matching `query`, cached per portal, language, query.

    In degraded mode only cached results are served: an uncached query gets a notice, never
    an error and never a database search.
    """
    query = " ".join(request.GET.get("query", "").split())[:512]
    if "\x00" in query:  # PostgreSQL text cannot hold it: a bad request, said as such
        return TemplateResponse(
            request, "search/search.html", {"search_query": "", "invalid": True}, status=400
        )
    site = request._wagtail_site
    number = request.GET.get("page", "1")
    results, limited = [], False
    if query:
        digest = hashlib.sha1(f"{query}|{number}".encode()).hexdigest()
        key = f"search:pages:{site.pk}:{get_language()}:{digest}"
        results = cache.get(key)
        if results is None:
            if PortalSettings.cached_for_site(site).degraded_mode:
                results, limited = [], True
            else:
                results = run_search(site, query, number)
                cache.set(key, results, RESULTS_TTL)
    return TemplateResponse(
        request,
        "search/search.html",
        {"search_query": query, "search_results": results, "limited": limited},
    )


def run_search(site, query: str, number: str) -> list[dict]:
    root = site.root_page.localized
    # live and public: a page behind a password or a sign-in (view restriction) never shows.
    pages = Page.objects.live().public().descendant_of(root, inclusive=True).search(query)
    paginator = Paginator(pages, 10)
    try:
        page = paginator.page(number)
    except (PageNotAnInteger, EmptyPage):
        page = paginator.page(1)
    return [{"title": p.title, "url": p.get_url()} for p in page.object_list]


@public_cache
def missions(request):
    """The volunteers' mission search page: the search of GET /api/v1/missions (every filter,
    facet counts, sort, pages), its whole query in the URL; a bad parameter is a 400 that
    says which."""
    errors, found, params = {}, None, None
    try:
        params = parse(request.GET)
        found = search_missions(request.site, params)
    except InvalidSearch as invalid:
        errors = search_page.messages(invalid.codes)
    return TemplateResponse(
        request,
        "search/missions.html",
        search_page.context(request.GET, found, params, errors),
        status=400 if errors else 200,
    )
