from django.http import HttpResponse
from django.views.decorators.http import require_GET

from portal.cache import public_cache


@require_GET
@public_cache
def robots_txt(request):
    """Per portal: private areas out of the index, and where this portal's sitemap is."""
    base = request.site.root_url
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /fr/espace/",
        "Disallow: /en/espace/",
        "Disallow: /fr/compte/",
        "Disallow: /en/compte/",
        f"Sitemap: {base}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
