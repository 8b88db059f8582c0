"""After a publish or a settings change: forget the cached pages, here and at the CDN.

Always after the transaction commits: purging first would let a request re-cache the old
content before the new one is visible.
"""

import logging

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from wagtail.contrib.frontend_cache.backends import CloudflareBackend as WagtailCloudflare
from wagtail.contrib.frontend_cache.utils import PurgeBatch
from wagtail.models import Page, Site

from portal import languages
from portal.pagecache import bump, version_of

logger = logging.getLogger(__name__)


class CloudflareBackend(WagtailCloudflare):
    """Wagtail's Cloudflare backend, with the API address configurable (tests use a fake)."""

    def __init__(self, params):
        self.api_url = params.pop("API_URL", "https://api.cloudflare.com/client/v4/")
        super().__init__(params)

    def _purge_urls(self, urls):
        response = requests.post(
            f"{self.api_url}zones/{self.cloudflare_zoneid}/purge_cache",
            json={"files": urls},
            headers={"Authorization": f"Bearer {self.cloudflare_token}"},
            timeout=10,
        )
        if response.status_code >= 300 or not response.json().get("success", False):
            logger.error("Cloudflare purge failed (%s): %s", response.status_code, response.text)


def site_hostnames(site: Site) -> list[str]:
    return [site.hostname, *site.aliases.values_list("hostname", flat=True)]


def site_urls(site: Site) -> list[str]:
    """Every live page of the site, in every language, plus the non-page public URLs."""
    roots = site.root_page.get_translations(inclusive=True)
    urls = []
    for root in roots:
        for page in Page.objects.live().descendant_of(root, inclusive=True).specific():
            url = page.get_full_url()
            if url:
                urls.append(url)
    base = site.root_url
    for language, _name in settings.LANGUAGES:
        urls.append(base + languages.reverse_in(language, "accounts:signup"))
    urls += [f"{base}/sitemap.xml", f"{base}/robots.txt"]
    return urls


def content_version(site: Site) -> int:
    """The site's content version (bumped on every publish or settings change): fragment
    caches put it in their keys, so the same bump that empties the page cache expires them."""
    if settings.REDIS_URL:
        return version_of(site.hostname, settings.REDIS_URL)
    return cache.get(f"content:v:{site.hostname}", 0)  # embedded mode: one process


def on_host(urls: list[str], site: Site, hostname: str) -> list[str]:
    """The same URLs under another hostname of the site (a former one, still at the CDN)."""
    base = site.root_url
    former = base.replace(f"//{site.hostname}", f"//{hostname}", 1)
    return [former + url[len(base) :] for url in urls if url.startswith(base)]


def purge_site(
    site: Site, urls: list[str] | None = None, former_hostnames: tuple[str, ...] = ()
) -> None:
    """Schedule, after commit, the page-cache invalidation and the CDN purge of a site.

    `former_hostnames`: after a domain switch the CDN still holds the pages under the old
    host; they are purged too, so it asks again and gets the redirect to the new domain.
    """
    hostnames = [*site_hostnames(site), *former_hostnames]
    site_id = site.pk

    def run():
        if settings.REDIS_URL:
            bump(hostnames, settings.REDIS_URL)
        else:
            for host in hostnames:
                cache.set(f"content:v:{host}", cache.get(f"content:v:{host}", 0) + 1, None)
        if settings.WAGTAILFRONTENDCACHE:
            try:
                current = Site.objects.get(pk=site_id)
                to_purge = urls if urls is not None else site_urls(current)
                for hostname in former_hostnames:
                    to_purge = [*to_purge, *on_host(to_purge, current, hostname)]
                batch = PurgeBatch()
                batch.add_urls(to_purge)
                batch.purge()
            except Exception:
                logger.exception("CDN purge failed for site %s", site_id)

    transaction.on_commit(run, robust=True)


def purge_page(page: Page) -> None:
    """A page changed: its site's pages may list it (menus, children), so purge the site."""
    site = page.get_site()
    if site is not None:
        purge_site(site)
