"""What a moderator may see: the portals they moderate, and on a portal where they are a
département referent, only the objects of their départements.

One rule for every caller (the queues' list, inspect and moderate views, their counts, the
reports, the daily digest, and `organisations.services.role_for`, which every move of an
organisation or a mission goes through): `visible`.

An object's département comes from its postal code; a mission without one (remote) is where
its organisation is. An object with no postal code at all is seen by the portal's unscoped
moderators only.
"""

from django.db.models import Q, QuerySet
from wagtail.models import Site

from tenants.models import PortalGroup

from .models import Referent

# model label → (the path to its portal, the postal codes that place it, first non-blank wins)
PLACES = {
    "organisations.organisation": ("site", ("postal_code",)),
    "missions.mission": ("organisation__site", ("postal_code", "organisation__postal_code")),
    "moderation.report": (
        "mission__organisation__site",
        ("mission__postal_code", "mission__organisation__postal_code"),
    ),
}


def moderated_site_ids(user) -> list[int]:
    """The portals whose moderators group `user` belongs to (superusers: every portal)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Site.objects.values_list("pk", flat=True))
    return list(
        PortalGroup.objects.filter(
            role=PortalGroup.Role.MODERATORS, group__in=user.groups.all()
        ).values_list("site_id", flat=True)
    )


def scopes(user) -> dict[int, set[str]]:
    """{portal id: its départements for `user`} for each portal they moderate; an empty set
    is the whole portal. Superusers are never scoped."""
    found = {site_id: set() for site_id in moderated_site_ids(user)}
    if found and not user.is_superuser:
        rows = Referent.objects.filter(user=user, site_id__in=found)
        for site_id, departement in rows.values_list("site_id", "departement"):
            found[site_id].add(departement)
    return found


def postcode_q(departement: str, field: str) -> Q:
    """The postal codes of one département: Corsica splits 20xxx at 20200, overseas
    départements have three digits (missions.postcodes.departement, as a query)."""
    if departement == "2A":
        return Q(**{f"{field}__gte": "20000", f"{field}__lt": "20200"})
    if departement == "2B":
        return Q(**{f"{field}__gte": "20200", f"{field}__lt": "21000"})
    return Q(**{f"{field}__startswith": departement})


def in_departements(departements, fields) -> Q:
    """Objects placed in one of `departements` by the first non-blank of `fields`."""
    found = Q(pk__in=[])
    earlier_blank = Q()
    for field in fields:
        here = Q(pk__in=[])
        for departement in sorted(departements):
            here |= postcode_q(departement, field)
        found |= earlier_blank & here
        earlier_blank &= Q(**{field: ""})
    return found


def visible(queryset: QuerySet, user, sites=None) -> QuerySet:
    """`queryset` narrowed to what `user` moderates (optionally on `sites` only): their
    portals, and their départements on a portal where they are a referent."""
    site_field, fields = PLACES[queryset.model._meta.label_lower]
    allowed = Q(pk__in=[])
    only = None if sites is None else {getattr(site, "pk", site) for site in sites}
    for site_id, departements in scopes(user).items():
        if only is not None and site_id not in only:
            continue
        part = Q(**{site_field: site_id})
        if departements:
            part &= in_departements(departements, fields)
        allowed |= part
    return queryset.filter(allowed)


def covers(user, obj) -> bool:
    """Whether `obj` (an organisation, a mission, a report) is in `user`'s moderation."""
    return visible(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def is_referent(user, site) -> bool:
    return Referent.objects.filter(user=user, site=site).exists()
