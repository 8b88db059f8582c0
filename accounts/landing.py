"""Where a person lands after signing in: one rule for every door (password, emailed sign-in
link, signup confirmation link), so an association manager reaches their dashboard however
they sign in.
"""

from django.urls import reverse

from organisations.models import Organisation
from portal.redirects import next_from


def managed_organisations(user):
    """The organisations `user` manages (a membership makes a manager), by name."""
    return Organisation.objects.filter(memberships__user=user).order_by("name", "pk")


def landing_url(request) -> str:
    """For `request.user`, just signed in: the `next` they came from if it stays on this
    portal, else `account_home`."""
    return next_from(request) or account_home(request.user)


def account_home(user) -> str:
    """Their association's dashboard when `user` manages exactly one; the association home,
    which lists them, when several; else the volunteer space."""
    organisations = list(managed_organisations(user).values_list("pk", flat=True)[:2])
    if len(organisations) == 1:
        return reverse("organisations:dashboard", args=[organisations[0]])
    if organisations:
        return reverse("organisations:home")
    return reverse("accounts:space")
