import datetime

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
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


@require_GET
@public_cache
def security_txt(request):
    """RFC 9116: where to report a vulnerability (SECURITY_CONTACT), on every portal."""
    expires = timezone.now().replace(microsecond=0) + datetime.timedelta(days=180)
    lines = [
        f"Contact: {settings.SECURITY_CONTACT or f'mailto:securite@{request.site.hostname}'}",
        f"Expires: {expires.isoformat()}",
        "Preferred-Languages: fr, en",
        f"Canonical: {request.site.root_url}/.well-known/security.txt",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
