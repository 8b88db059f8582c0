"""`{% account_area as account %}`: the header's account area, for base.html."""

from django import template

from portal.cache import is_public_view

from .. import account_area as area

register = template.Library()


@register.simple_tag(takes_context=True)
def account_area(context) -> dict:
    """{"state", "menu"}. A public view gets "public" and no menu, and the request's user is
    never looked at (the page is the same for everyone; account.js asks /api/v1/me). Other
    pages are private: "in" with the signed-in person's menu, or "out"."""
    request = context.get("request")
    if request is None:  # rendered outside a request (an email, a test)
        return {"state": "out", "menu": None}
    if is_public_view(request):
        return {"state": "public", "menu": None}
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    area.hint(request, signed_in)  # repairs a missing or stale hint while we know
    return {"state": "in" if signed_in else "out", "menu": area.menu(user) if signed_in else None}
