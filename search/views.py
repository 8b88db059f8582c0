from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.template.response import TemplateResponse
from wagtail.models import Page


def search(request):
    """Site pages of the current portal matching `q` (missions join in a later issue)."""
    query = request.GET.get("query", "")[:512]
    site = request._wagtail_site
    results = Page.objects.none()
    if query:
        results = (
            Page.objects.live()
            .descendant_of(site.root_page.localized, inclusive=True)
            .search(query)
        )
    paginator = Paginator(results, 10)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except (PageNotAnInteger, EmptyPage):
        page = paginator.page(1)
    return TemplateResponse(
        request, "search/search.html", {"search_query": query, "search_results": page}
    )
