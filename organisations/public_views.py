"""The public page of an organisation: who they are and their open missions on this portal."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from missions.models import Mission
from missions.views import language_urls
from portal.cache import public_cache

from .models import Organisation


def public_organisations(site):
    """Validated organisations this portal shows: its own, and those with a public mission here."""
    return Organisation.objects.filter(status=Organisation.Status.VALIDATED).filter(
        Q(site=site) | Q(pk__in=Mission.objects.public(site).values("organisation"))
    )


@public_cache
def organisation(request, slug):
    found = get_object_or_404(public_organisations(request.site), slug=slug)
    missions = (
        Mission.objects.public(request.site).filter(organisation=found).order_by("start_date", "pk")
    )
    return TemplateResponse(
        request,
        "organisations/organisation.html",
        {
            "organisation": found,
            "missions": missions,
            "canonical": request.site.root_url + found.get_absolute_url(),
            "alternates": language_urls(request.site, found),
            "summary": Truncator(" ".join(found.description.split())).chars(200),
        },
    )
