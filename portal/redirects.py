"""Where to send a visitor back after signing in or up: `next`, if it stays on this portal.

One check for every door (the admin's two-factor steps, the public sign-in, the emailed links,
the signup): a `next` that names another host or scheme, or a `//host` path, is ignored, so
no link of ours can bounce a visitor to someone else's site.
"""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, url) -> str:
    """`url` if it points inside the portal answering this request, else ""."""
    if (
        isinstance(url, str)
        and url
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return ""


def next_from(request) -> str:
    """The request's `next` (form field, else query string), if safe; else ""."""
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))
