"""The header's account area: who is signed in, and where they can go from any page.

Public pages are the same bytes for everyone (portal/cache.py), so they carry the signed-out
area ("Volunteer", "Sign in") and `accounts/static/accounts/account.js` swaps in the signed-in
one from `GET /api/v1/me`, which sends `menu(user)` as JSON. Private pages render the same
`menu(user)` on the server (`{% account_area %}`). Without JavaScript, "Sign in" leads to the
sign-in page, which sends a signed-in visitor on to where `accounts.landing` says.

The `signed_in` cookie is a hint, readable by the script: set when someone signs in, dropped
when they sign out. Only a browser holding it asks /api/v1/me, so anonymous visitors, the
crowd a campaign brings, cost no request to Django beyond the cached page. It says nothing
about who: a hint that outlives its session earns a 204, and the script drops it.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext

from .landing import managed_organisations

HINT_COOKIE = "signed_in"
# Organisations listed in the menu; past that, one link to the association home lists them all.
MENU_ORGANISATIONS = 5


def menu(user) -> dict:
    """What the account area shows `user`, in the active language: the button's label, then
    the menu's links in order (space, applications, each association managed, the admin for
    those who may open it), then the sign-out form's address."""
    links = [
        {"kind": "space", "label": gettext("My volunteer space"), "url": reverse("accounts:space")},
        {
            "kind": "applications",
            "label": gettext("My applications"),
            "url": reverse("accounts:applications"),
        },
    ]
    organisations = list(managed_organisations(user)[: MENU_ORGANISATIONS + 1])
    for organisation in organisations[:MENU_ORGANISATIONS]:
        url = reverse("organisations:dashboard", args=[organisation.pk])
        links.append({"kind": "organisation", "label": organisation.name, "url": url})
    if len(organisations) > MENU_ORGANISATIONS:
        url = reverse("organisations:home")
        links.append({"kind": "organisations", "label": gettext("All my associations"), "url": url})
    if user.has_perm("wagtailadmin.access_admin"):
        url = reverse("wagtailadmin_home")
        links.append({"kind": "admin", "label": gettext("Administration"), "url": url})
    return {
        "first_name": user.first_name,
        "label": user.first_name or gettext("My account"),
        "title": gettext("My account"),
        "links": links,
        "sign_out": {"label": gettext("Sign out"), "url": reverse("accounts:logout")},
    }


def hint(request, signed_in: bool) -> None:
    """Have AccountHintMiddleware set or drop the hint when the browser's copy is wrong."""
    if (HINT_COOKIE in request.COOKIES) != signed_in:
        request.account_hint = signed_in


@receiver(user_logged_in, dispatch_uid="account_area_signed_in")
def signed_in(sender, request, user, **kwargs):
    if request is not None:
        hint(request, True)


@receiver(user_logged_out, dispatch_uid="account_area_signed_out")
def signed_out(sender, request, user, **kwargs):
    if request is not None:
        hint(request, False)


class AccountHintMiddleware:
    """Writes what `hint` asked for. Only on sign-in, sign-out, /api/v1/me and private
    pages: a public view never reads the session, so it never asks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        wanted = getattr(request, "account_hint", None)
        if wanted is True:
            lasts = not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE  # as long as a session may
            response.set_cookie(
                HINT_COOKIE,
                "1",
                max_age=settings.SESSION_COOKIE_AGE if lasts else None,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=False,  # the script reads it
                samesite="Lax",
            )
        elif wanted is False:
            response.delete_cookie(HINT_COOKIE, samesite="Lax")
        return response
