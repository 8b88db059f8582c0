from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from missions.models import Activity, Application, Domain, Mission
from organisations.models import Organisation

from . import index, taxonomy


@receiver(post_save, sender=Mission)
def mission_saved(sender, instance, **kwargs):
    index.update_vectors([instance.pk])
    transaction.on_commit(index.bump, robust=True)


@receiver(post_save, sender=Organisation)
def organisation_saved(sender, instance, created, **kwargs):
    if not created:
        index.update_vectors(organisation_id=instance.pk)
    transaction.on_commit(index.bump, robust=True)


@receiver(post_save, sender=Application)
@receiver(post_delete, sender=Application)
@receiver(post_delete, sender=Mission)
def places_changed(sender, instance, **kwargs):
    transaction.on_commit(index.bump, robust=True)


@receiver(post_save, sender=Domain)
@receiver(post_delete, sender=Domain)
@receiver(post_save, sender=Activity)
@receiver(post_delete, sender=Activity)
def taxonomy_changed(sender, instance, **kwargs):
    # Now, and again once committed: a search between the two may have cached the old list.
    taxonomy.forget()
    transaction.on_commit(taxonomy.forget, robust=True)
