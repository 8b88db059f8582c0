"""Where every request goes. Read top to bottom: the first match wins.

Before any of this, middleware (portal/settings/base.py MIDDLEWARE) resolves the tenant from
the Host header: unknown hosts get 400, aliases of a portal a permanent redirect. An uncaught
error ends in `handler500`, which answers 503 + Retry-After when Redis is away (portal.errors).
"""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from accounts import views as account_views
from emails.tracking import brevo_tracking
from home import statistics as home_statistics
from home import views as home_views
from missions import views as mission_views
from missions.api import api as missions_api
from organisations import public_views as organisation_views
from portal import sitemaps
from portal.cache import public_cache
from portal.health import HealthView
from search import views as search_views

handler403 = "portal.errors.permission_denied"
handler500 = "portal.errors.server_error"

urlpatterns = [
    # Operations: never cached, no cookie, answered for any Host.
    path("healthz", HealthView.as_view(), name="healthz"),
    # Brevo's delivery events (basic auth: ANYMAIL_WEBHOOK_SECRET).
    path("anymail/brevo/tracking/", brevo_tracking, name="brevo_tracking"),
    path("_ping", account_views.ping, name="ping"),  # benchmark reference
    # JSON API (partners, the signup page's and the header's scripts).
    path("api/v1/signup", account_views.api_signup, name="api_signup"),
    path("api/v1/csrf", account_views.api_csrf, name="api_csrf"),
    path("api/v1/me", account_views.api_me, name="api_me"),  # the header's account area
    path("api/v1/", missions_api.urls),  # missions, applications, /api/v1/schema
    # Staff and editors.
    path("admin/", include("accounts.admin_urls")),  # throttled login, two-factor steps
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("sitemap.xml", public_cache(sitemaps.sitemap)),
    path("robots.txt", home_views.robots_txt),
    path(".well-known/security.txt", home_views.security_txt),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Public site, per language (/fr/..., /en/...). Wagtail's page tree is the catch-all.
urlpatterns += i18n_patterns(
    path("search/", search_views.search, name="search"),
    path("missions/", search_views.missions, name="missions"),
    path("statistiques/", home_statistics.statistics, name="statistics"),
    path("missions/<int:pk>/", mission_views.mission, name="mission"),
    path("missions/<int:pk>-<slug:slug>/", mission_views.mission, name="mission_slug"),
    path("missions/<int:pk>/candidater/", mission_views.apply, name="mission_apply"),
    path("missions/<int:pk>/signaler/", mission_views.report, name="mission_report"),
    path("organisations/<slug:slug>/", organisation_views.organisation, name="organisation"),
    path("", include("accounts.urls")),
    path("", include("organisations.urls")),
    path("", include("conversations.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
