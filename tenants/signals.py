from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Site

from . import hosts
from .models import SiteAlias


@receiver([post_save, post_delete], sender=Site)
@receiver([post_save, post_delete], sender=SiteAlias)
def invalidate_host_map(**kwargs):
    # After commit: invalidating earlier would let another process re-cache the old rows.
    transaction.on_commit(hosts.invalidate)
