from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save, pre_save
from django.dispatch import receiver
from wagtail.log_actions import get_active_log_context
from wagtail.models import Site
from wagtail_localize.models import Translation

from portal.purge import purge_site

from . import hosts
from .models import PortalSettings, SiteAlias, SwitchChange
from .portals import set_up_portal
from .switches import switch_domain, switch_source


@receiver(pre_save, sender=Site)
def remember_hostname(sender, instance, **kwargs):
    """The hostname before this save: a domain switch must purge the old host's URLs too."""
    instance._former_hostname = (
        Site.objects.filter(pk=instance.pk).values_list("hostname", flat=True).first()
        if instance.pk
        else None
    )


@receiver([post_save, post_delete], sender=Site)
@receiver([post_save, post_delete], sender=SiteAlias)
def invalidate_host_map(sender, instance, **kwargs):
    # After commit: invalidating earlier would let another process re-cache the old rows.
    transaction.on_commit(hosts.invalidate)
    site = instance if sender is Site else instance.site
    if kwargs.get("signal") is post_save or sender is SiteAlias:
        former = getattr(instance, "_former_hostname", None) if sender is Site else None
        purge_site(site, former_hostnames=(former,) if former and former != site.hostname else ())


@receiver(post_save, sender=Site)
def site_added(sender, instance, created, raw=False, **kwargs):
    """A Site added in Wagtail's admin (or anywhere) becomes a portal: settings row, root page
    in every language, editors and moderators groups, collection (tenants.portals)."""
    if created and not raw:
        set_up_portal(instance)


@receiver(post_save, sender=PortalSettings)
def settings_changed(sender, instance, **kwargs):
    """Banner, degraded mode, signups: every page of the site shows them."""
    purge_site(instance.site)


@receiver(pre_save, sender=PortalSettings)
def remember_previous(sender, instance, **kwargs):
    previous = PortalSettings.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._previous = (
        {f: getattr(previous, f) for f in PortalSettings.AUDITED} if previous else {}
    )


@receiver(post_save, sender=PortalSettings)
def log_and_apply(sender, instance, created, **kwargs):
    """The switch log, then the domain move (tenants.switches)."""
    previous = getattr(instance, "_previous", {})
    source, user = switch_source.get()
    if user is None:
        context = get_active_log_context()
        user = getattr(context, "user", None) if context else None
    changes = [
        SwitchChange(
            site=instance.site,
            field=field,
            old_value=str(previous.get(field, "")),
            new_value=str(getattr(instance, field)),
            user=user if getattr(user, "pk", None) else None,
            source=source,
        )
        for field in PortalSettings.AUDITED
        if previous and previous.get(field) != getattr(instance, field)
    ]
    SwitchChange.objects.bulk_create(changes)
    if instance.public_domain and instance.public_domain != instance.site.hostname:
        switch_domain(instance.site, instance.public_domain)


@receiver(post_migrate)
def translation_permission(sender, app_config=None, using="default", **kwargs):
    """wagtail-localize makes its "submit translation" permission in a migration only: a flushed
    database (the tests' transactional cases) loses it while Django remakes every model's
    permissions. Editors' groups are given it (tenants.portals), so it is remade here too."""
    if getattr(app_config, "label", None) != "wagtail_localize":
        return
    content_type = ContentType.objects.db_manager(using).get_for_model(Translation)
    Permission.objects.using(using).get_or_create(
        content_type=content_type,
        codename="submit_translation",
        defaults={"name": "Can submit translations"},
    )
