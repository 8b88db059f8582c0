"""Content-Security-Policy: django-csp's middleware, with one policy for the admin.

Public pages are the same bytes for every visitor (CDN, portal/pagecache.py), so they carry no
inline script at all and their policy no nonce: the header and a cached body always match.
A page that does use `request.csp_nonce` gets a fresh nonce in its header, and is made
`private, no-store` here, so a nonce is never replayed from a shared cache. See README,
"Security".
"""

import logging

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)


def is_admin_path(path: str) -> bool:
    return path.startswith(tuple(settings.CSP_ADMIN_PATHS))


def nonce_used(request) -> bool:
    return isinstance(getattr(request, "_csp_nonce", None), str)


class PortalCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if nonce_used(request) and "public" in response.get("Cache-Control", ""):
            logger.warning("%s used a CSP nonce: served private, not cached", request.path)
            del response["Cache-Control"]
            add_never_cache_headers(response)
        return super().process_response(request, response)

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None and is_admin_path(request.path_info):
            # Wagtail's admin writes inline <script> and style="" without nonces; a nonce in
            # the header would make browsers ignore 'unsafe-inline' and break it.
            parts.config = settings.CSP_ADMIN_DIRECTIVES
            parts.nonce = None
        return parts
