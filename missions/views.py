"""The public mission page and the volunteer's application to it."""

from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from portal.cache import public_cache

from .models import Mission


def public_mission(request, pk):
    """The mission if volunteers of this portal may see it; 404 otherwise (draft, refused,
    closed, another portal's, organisation not validated)."""
    return get_object_or_404(
        Mission.objects.public(request.site).select_related("organisation", "domain", "activity"),
        pk=pk,
    )


@public_cache
def mission(request, pk, slug=None):
    found = public_mission(request, pk)
    if slug != found.slug:
        return redirect(found.get_absolute_url(), permanent=True)
    return TemplateResponse(request, "missions/mission.html", {"mission": found})
