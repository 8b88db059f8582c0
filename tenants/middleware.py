"""Routes each request to its tenant (a Wagtail Site) by Host, before anything else runs; keeps
translation requests inside the editor's portal."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import HttpResponseBadRequest, HttpResponsePermanentRedirect
from django.http.request import split_domain_port
from wagtail.models import Page, Site
from wagtail_localize.models import TranslationSource

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
        try:
            values = list(Site.objects.filter(pk=site_id).values_list(*FIELDS).get())
        except (OperationalError, InterfaceError):
            if cached is None:
                raise
            # PostgreSQL away: the row as last read. A page needs the database anyway, but a
            # signup accepted into the stream (accounts.signup_stream) must not fail here.
            values = cached[1]
        cached = _sites[site_id] = (generation, values)
    return Site.from_db("default", FIELDS, cached[1])


# wagtail-localize's views that take a page as their source and check only the global
# "submit translation" permission: URL name -> how to find the source object from the kwargs.
TRANSLATION_SOURCES = {
    "wagtail_localize:submit_page_translation": lambda kwargs: Page.objects.filter(
        pk=kwargs["page_id"]
    ).first(),
    "wagtail_localize:update_translations": lambda kwargs: (
        source.get_source_instance()
        if (source := TranslationSource.objects.filter(pk=kwargs["translation_source_id"]).first())
        else None
    ),
}


class TranslationScopeMiddleware:
    """Translating a page needs the right to edit it, so an editor stays in their portal.

    wagtail-localize lets anyone with its global permission submit or sync any page (the copies
    land in that page's portal); editors have it, so without this check an editor of one
    portal could write into another's English tree.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        find = TRANSLATION_SOURCES.get(getattr(request.resolver_match, "view_name", ""))
        if find is None or request.user.is_superuser:
            return None
        source = find(view_kwargs)
        if isinstance(source, Page) and not source.permissions_for_user(request.user).can_edit():
            raise PermissionDenied
        return None
