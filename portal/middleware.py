"""Cross-cutting middleware."""

import html

from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.urls import reverse
from django.utils.translation import gettext

from portal.errors import permission_denied


def client_ip(meta: dict, trusted_proxy_count: int) -> str:
    """The address of the client, as seen by the outermost proxy we trust.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For,
    so with N trusted proxies the client is the N-th address from the right. Anything further
    left was written by the client and is ignored: it cannot choose its own rate-limit key.
    """
    remote_addr = meta.get("REMOTE_ADDR", "")
    if trusted_proxy_count <= 0:
        return remote_addr
    forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not forwarded:
        return remote_addr
    # With fewer addresses than proxies the request bypassed one: the left-most is the best
    # we have, and it was still written by a proxy we trust.
    return forwarded[-min(trusted_proxy_count, len(forwarded))]


class ClientIPMiddleware:
    """Sets request.client_ip once, for rate limits and audit logs."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted_proxy_count = settings.TRUSTED_PROXY_COUNT

    def __call__(self, request):
        request.client_ip = client_ip(request.META, self.trusted_proxy_count)
        return self.get_response(request)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's, minus the redirect of unprefixed 404s to /fr/... for the JSON API: a missing
    mission is a 404 with a JSON body, not a redirect into the page tree."""

    def process_response(self, request, response):
        if request.path_info.startswith("/api/"):
            return response
        return super().process_response(request, response)


class AdminPermissionDeniedMiddleware:
    """A refused admin action answers 403, not Wagtail's redirect to the dashboard.

    Wagtail sends browsers that lack a permission back to the dashboard with an error
    message; an editor of one portal trying another portal's page should get a plain 403
    (scripts already do). Placed after MessageMiddleware, so the message is dropped unsent.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 302 or not request.path_info.startswith("/admin/"):
            return response
        if response.url != reverse("wagtailadmin_home"):
            return response
        storage = getattr(request, "_messages", None)
        queued = getattr(storage, "_queued_messages", [])
        denied = gettext("Sorry, you do not have permission to access this area.")
        # Wagtail's admin messages are rendered HTML: compare the unescaped text.
        refusals = [m for m in queued if denied in html.unescape(str(m.message))]
        if not refusals:
            return response
        for message in refusals:
            queued.remove(message)
        return permission_denied(request, PermissionError("admin permission denied"))
