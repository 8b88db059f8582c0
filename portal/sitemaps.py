"""/sitemap.xml: the portal's Wagtail pages, its public missions and organisations.

Each portal lists its own (the host decides), every URL in French and English with its
hreflang alternates, under the portal's root URL (as Wagtail's pages are).
"""

from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap
from wagtail.contrib.sitemaps import views as wagtail_sitemaps
from wagtail.contrib.sitemaps.sitemap_generator import Sitemap as PageSitemap

from missions.models import Mission
from organisations.public_views import public_organisations


class PortalSitemap(Sitemap):
    i18n = True
    alternates = True

    def __init__(self, request):
        self.site = request.site

    def get_protocol(self, protocol=None):
        return urlsplit(self.site.root_url).scheme

    def get_domain(self, site=None):
        return urlsplit(self.site.root_url).netloc


class MissionSitemap(PortalSitemap):
    def items(self):
        return Mission.objects.public(self.site).only("pk", "slug", "updated_at").order_by("pk")

    def lastmod(self, mission):
        return mission.updated_at


class OrganisationSitemap(PortalSitemap):
    def items(self):
        return public_organisations(self.site).only("pk", "slug").order_by("pk")


def sitemap(request):
    return wagtail_sitemaps.sitemap(
        request,
        sitemaps={
            "pages": PageSitemap,
            "missions": MissionSitemap(request),
            "organisations": OrganisationSitemap(request),
        },
    )
