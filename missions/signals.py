import logging

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .models import Mission
from .tasks import geocode

logger = logging.getLogger(__name__)


@receiver(pre_save, sender=Mission)
def remember_place(sender, instance, **kwargs):
    previous = (
        Mission.objects.filter(pk=instance.pk).values(*Mission.PLACE_FIELDS).first()
        if instance.pk
        else None
    )
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
