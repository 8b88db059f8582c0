from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from portal.purge import purge_page, purge_site

from .models import FooterSettings


@receiver(page_published)
@receiver(page_unpublished)
def page_changed(sender, instance, **kwargs):
    purge_page(instance)


@receiver(post_page_move)
def page_moved(sender, instance, **kwargs):
    purge_page(instance)


@receiver(post_delete)
def page_deleted(sender, instance, **kwargs):
    if isinstance(instance, Page) and instance.live:
        purge_page(instance)


@receiver(post_save, sender=FooterSettings)
def footer_changed(sender, instance, **kwargs):
    """Every page's footer links to these pages."""
    purge_site(instance.site)
