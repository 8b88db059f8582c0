"""Forms on pages a CDN keeps: the page cannot carry a CSRF token, the browser vouches instead.

A cached page is the same bytes for everyone, so it holds no token (README, "CDN and caches").
Its form can still post safely: browsers add `Origin` to every POST, and `Sec-Fetch-Site` on
secure origins, and no page can forge either. A POST whose `Origin` is this very portal's
scheme and host (or, without `Origin`, whose `Sec-Fetch-Site` is `same-origin`) was sent by a
page of this portal, which is what the token proves. Anything else goes through Django's usual
check, so a POST with a valid token works as before, and a cross-site one is refused.

Under HTTPS (production) only an HTTPS request can pass without a token: over plain HTTP a
network attacker writes the headers anyway.
"""

from functools import wraps

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def same_origin(request) -> bool:
    """True when the browser says the request comes from a page of this very origin."""
    if settings.PORTAL_PUBLIC_SCHEME == "https" and not request.is_secure():
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site not in (None, "same-origin"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return fetch_site == "same-origin"
    # Django's own comparison (CsrfViewMiddleware._origin_verified): scheme per
    # SECURE_PROXY_SSL_HEADER, host as the tenant middleware accepted it.
    return origin == f"{request.scheme}://{request.get_host()}"


def _passes_token_check(request, view) -> bool:
    """Django's own check (Origin/Referer, then the token) of `view`, which is not exempt."""
    return CsrfViewMiddleware(lambda request: None).process_view(request, view, (), {}) is None


def same_origin_or_token(view):
    """CSRF protection for a form served from a cached page: same-origin POSTs need no token;
    others need a valid one, or get a 403 page that says what to do."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if (
            request.method not in SAFE_METHODS
            and not same_origin(request)
            and not _passes_token_check(request, view)
        ):
            return render(request, "form_refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
