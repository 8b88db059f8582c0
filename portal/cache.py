"""Cache-Control for what a CDN may keep: one decorator, one place for the numbers."""

from functools import wraps

from django.conf import settings


def public_cache(view):
    """Anonymous, identical-for-everyone pages: shared caches may keep them.

    The view must not touch the session or render a CSRF token (either would add a cookie or
    `Vary: Cookie` and split the CDN cache per visitor); tests check the headers.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response["Cache-Control"] = (
                f"public, max-age=0, s-maxage={settings.CDN_S_MAXAGE}, "
                f"stale-while-revalidate={settings.CDN_STALE_WHILE_REVALIDATE}"
            )
        return response

    return wrapped
