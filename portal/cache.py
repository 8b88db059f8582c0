"""Cache-Control for what a CDN may keep: one module, one place for the numbers.

Public means identical for every anonymous visitor: such a response carries no cookie and no
`Vary: Cookie` (either would split or poison a shared cache). A request that carries a session
cookie gets `private, no-store`, whatever the page.
"""

from functools import wraps

from django.conf import settings
from django.utils.cache import add_never_cache_headers


def has_session(request) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def public_header() -> str:
    return (
        f"public, max-age=0, s-maxage={settings.CDN_S_MAXAGE}, "
        f"stale-while-revalidate={settings.CDN_STALE_WHILE_REVALIDATE}"
    )


def mark(request, response):
    """Public for anonymous GET/HEAD 200s without cookies; private otherwise."""
    if has_session(request):
        add_never_cache_headers(response)
    elif (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and not response.cookies
        and "Cookie" not in response.get("Vary", "")
    ):
        response["Cache-Control"] = public_header()
    return response


def public_cache(view):
    """For views whose GET is the same for every anonymous visitor (they must not read the
    session or render a CSRF token: tests walk the public pages and check)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return mark(request, view(request, *args, **kwargs))

    return wrapped


def public_page(serve):
    """The same, for a Wagtail Page.serve method."""

    @wraps(serve)
    def wrapped(page, request, *args, **kwargs):
        return mark(request, serve(page, request, *args, **kwargs))

    return wrapped


class DefaultPrivateMiddleware:
    """Anything not explicitly public is `private, no-store` (admin, volunteer space, API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response
