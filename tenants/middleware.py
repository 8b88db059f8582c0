"""Routes each request to its tenant (a Wagtail Site) by Host, before anything else runs."""

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponsePermanentRedirect
from django.http.request import split_domain_port
from wagtail.models import Site

from . import hosts


class PermanentRedirect308(HttpResponsePermanentRedirect):
    status_code = 308  # keeps the method and body, unlike 301


def public_origin(request, hostname: str) -> str:
    """https in production; on a developer's machine, the scheme and port in use."""
    scheme = settings.PORTAL_PUBLIC_SCHEME
    port = request.get_port()
    if scheme == "https" or port in ("80", "443"):
        return f"{scheme}://{hostname}"
    return f"{scheme}://{hostname}:{port}"


class TenantMiddleware:
    """Unknown host: 400. Alias: permanent redirect to the site's domain. Else: set the site.

    Wagtail would serve the default site for any unknown Host; a portal must not answer for
    hostnames it does not own (cache poisoning, phishing lookalikes).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = tuple(settings.TENANT_EXEMPT_PATHS)

    def __call__(self, request):
        if request.path.startswith(self.exempt):
            return self.get_response(request)
        hostname = split_domain_port(request._get_raw_host())[0]
        entry = hosts.lookup(hostname) if hostname else None
        if entry is None:
            return HttpResponseBadRequest("Unknown host.", content_type="text/plain; charset=utf-8")
        if entry.is_alias:
            target = f"{public_origin(request, entry.canonical_hostname)}{request.get_full_path()}"
            response = (
                HttpResponsePermanentRedirect(target)
                if request.method in ("GET", "HEAD")
                else PermanentRedirect308(target)
            )
            response["Cache-Control"] = "public, max-age=300"  # the CDN may keep redirects too
            return response
        request.site = request._wagtail_site = _site(entry.site_id)
        return self.get_response(request)


_sites: dict[int, tuple[int, list]] = {}
FIELDS = ["id", "hostname", "port", "site_name", "root_page_id", "is_default_site"]


def _site(site_id: int) -> Site:
    """A fresh Site instance from the row's values cached per process (reloaded with the host
    map). Fresh each time: a cached instance would also cache its root page object, and serve
    a page's old content after it is published."""
    generation = hosts.generation()
    cached = _sites.get(site_id)
    if cached is None or cached[0] != generation:
        values = list(Site.objects.filter(pk=site_id).values_list(*FIELDS).get())
        cached = _sites[site_id] = (generation, values)
    return Site.from_db("default", FIELDS, cached[1])
