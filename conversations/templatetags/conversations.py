"""Unread counts where private pages list applications and missions, without their views
having to know about threads: one query per page, looked up per row with `of`."""

from django import template

from conversations import services

register = template.Library()


@register.simple_tag
def volunteer_unread(user) -> int:
    return services.unread_for_volunteer(user)


@register.simple_tag
def volunteer_unread_by_application(user) -> dict:
    return services.volunteer_unread_by_application(user)


@register.simple_tag
def volunteer_threads_here(request) -> set:
    """The volunteer's applications whose thread this portal serves (others link nowhere)."""
    mine = services.applications_on(request.site).filter(volunteer=request.user)
    return set(mine.values_list("pk", flat=True))


@register.simple_tag
def organisation_unread(organisation) -> int:
    return services.unread_for_organisation(organisation)


@register.simple_tag
def organisation_unread_by_mission(organisation) -> dict:
    return services.association_unread_by_mission(organisation)


@register.simple_tag
def mission_unread_by_application(mission) -> dict:
    return services.association_unread_by_application(mission)


@register.filter
def of(counts: dict, key) -> int:
    return counts.get(key, 0)
