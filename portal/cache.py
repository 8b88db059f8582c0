"""Cache-Control for what a CDN may keep: one module, one place for the numbers.

Public means identical for every visitor, signed in or not: such a response carries no cookie
and no `Vary: Cookie` (either would split or poison a shared cache), and its view never reads
the session (the header's account area is filled in by script, accounts/account_area.py). A
public response that read the session after all (it then varies on the cookie) or set a cookie
is made `private, no-store` on its way out (DefaultPrivateMiddleware).
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


def shareable(response) -> bool:
    """No cookie set and no `Vary: Cookie`, once every middleware had its say."""
    return not response.cookies and "Cookie" not in response.get("Vary", "")


def is_public_view(request) -> bool:
    """True while a public view answers: templates must then render nothing of the visitor."""
    return getattr(request, "public_view", False)


def mark(request, response):
    """Public for GET/HEAD 200s without cookies, whoever asks; left to the default (private)
    otherwise. A session cookie on the request changes nothing: the view did not read it."""
    if request.method in ("GET", "HEAD") and response.status_code == 200 and shareable(response):
        response["Cache-Control"] = public_header()
    return response


def public_cache(view):
    """For views whose GET is the same for every visitor (they must not read the session or
    render a CSRF token: tests walk the public pages and check)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.public_view = True
        return mark(request, view(request, *args, **kwargs))

    return wrapped


def public_page(serve):
    """The same, for a Wagtail Page.serve method."""

    @wraps(serve)
    def wrapped(page, request, *args, **kwargs):
        request.public_view = True
        return mark(request, serve(page, request, *args, **kwargs))

    return wrapped


class DefaultPrivateMiddleware:
    """Anything not explicitly public is `private, no-store` (admin, volunteer space, API), and
    so is a public response that set a cookie or read the session (a template rendered after
    the view returned can still do either): the last guard before a shared cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        control = response.get("Cache-Control")
        if control is None:
            add_never_cache_headers(response)
        elif control.startswith("public") and not shareable(response):
            del response["Cache-Control"]
            add_never_cache_headers(response)
        return response
