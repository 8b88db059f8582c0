import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import translation
from wagtail.models import Site

from organisations.models import Organisation
from portal.purge import purge_site

from .models import Mission
from .tasks import geocode

logger = logging.getLogger(__name__)


@receiver(pre_save, sender=Mission)
def remember_place(sender, instance, **kwargs):
    previous = (
        Mission.objects.filter(pk=instance.pk).values(*Mission.PLACE_FIELDS, "status").first()
        if instance.pk
        else None
    )
    instance._previous_status = previous.pop("status") if previous else None
    instance._previous_place = previous


@receiver(post_save, sender=Mission)
def geocode_when_the_place_changes(sender, instance, created, **kwargs):
    previous = getattr(instance, "_previous_place", None)
    place = {f: getattr(instance, f) for f in Mission.PLACE_FIELDS}
    if instance.is_remote or (previous == place and instance.latitude is not None):
        return
    if created and instance.latitude is not None:
        return  # given with its coordinates (imports, demo)

    def enqueue():
        try:
            geocode.apply_async(args=[instance.pk], retry=False)
        except Exception:  # broker down: the mission is saved; geocode it later
            logger.warning("Could not enqueue geocoding of mission %s", instance.pk)

    transaction.on_commit(enqueue, robust=True)


# --- Public pages: a change volunteers can see empties the caches that show it ---------------


def purge_pages(sites, missions=(), organisation=None) -> None:
    """After commit: bump the page cache of each portal (every cached page of its hosts) and
    purge at the CDN what shows these missions: their pages, their organisation's, the home
    page (highlighted missions), the search page and the sitemap, in every language."""
    paths = ["/sitemap.xml"]
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            paths += [f"/{language}/", reverse("missions")]
            paths += [mission.get_absolute_url() for mission in missions]
            if organisation is not None:
                paths.append(organisation.get_absolute_url())
    for site in sites:
        purge_site(site, urls=[site.root_url + path for path in paths])


def mission_sites(mission: Mission) -> set:
    """The portals showing the mission, and its organisation's (a new mission has no portal
    yet when it is first saved)."""
    return {*mission.sites.all(), mission.organisation.site} if mission.pk else set()


@receiver(post_save, sender=Mission)
def purge_mission_pages(sender, instance, **kwargs):
    """A mission that is, or was until this save, validated: its public pages change."""
    if Mission.Status.VALIDATED in (instance.status, getattr(instance, "_previous_status", None)):
        purge_pages(mission_sites(instance), [instance], instance.organisation)


@receiver(pre_delete, sender=Mission)
def remember_sites(sender, instance, **kwargs):
    instance._public_sites = mission_sites(instance)  # its portal links go before post_delete


@receiver(post_delete, sender=Mission)
def purge_deleted_mission(sender, instance, **kwargs):
    if instance.status == Mission.Status.VALIDATED:
        purge_pages(getattr(instance, "_public_sites", ()), [instance], instance.organisation)


@receiver(post_save, sender=Organisation)
def purge_organisation_pages(sender, instance, **kwargs):
    """Validated or suspended (the only way out of validated): its page and its missions'
    pages appear or go."""
    if instance.status not in (Organisation.Status.VALIDATED, Organisation.Status.SUSPENDED):
        return
    missions = list(instance.missions.filter(status=Mission.Status.VALIDATED).only("pk", "slug"))
    sites = {instance.site, *Site.objects.filter(missions__in=missions).distinct()}
    purge_pages(sites, missions, instance)
