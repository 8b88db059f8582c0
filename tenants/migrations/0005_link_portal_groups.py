"""Link each portal's editors and moderators groups to its site by id, and take away the
rights Wagtail's stock "Editors" and "Moderators" groups have over every portal.

Groups used to be found by name ("Éditeurs · <site name>"), so two portals with the same
name shared one group. A shared group stays with the oldest site; each other site gets a
group of its own (named with its id) that takes over the rights on its tree, with no members:
nobody can tell which editor was meant for which portal, so an administrator adds them back.
See README, "Security".
"""

from collections import defaultdict

from django.db import migrations

PREFIXES = {"editors": "Éditeurs · ", "moderators": "Modérateurs · "}
STOCK_GROUPS = ("Editors", "Moderators")


def link_portal_groups(apps, schema_editor):
    Site = apps.get_model("wagtailcore", "Site")
    Page = apps.get_model("wagtailcore", "Page")
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupSitePermission = apps.get_model("wagtailcore", "GroupSitePermission")
    PortalGroup = apps.get_model("tenants", "PortalGroup")

    for role, prefix in PREFIXES.items():
        by_name = defaultdict(list)
        for site in Site.objects.order_by("pk"):
            by_name[prefix + (site.site_name or site.hostname)].append(site)
        for name, sites in by_name.items():
            shared = Group.objects.filter(name=name).first()
            if shared is None or PortalGroup.objects.filter(group=shared).exists():
                continue
            first, *others = sites
            if not PortalGroup.objects.filter(site=first, role=role).exists():
                PortalGroup.objects.create(site=first, role=role, group=shared)
            for site in others:
                if PortalGroup.objects.filter(site=site, role=role).exists():
                    continue
                own = Group.objects.create(name=f"{name} #{site.pk}")
                own.permissions.set(shared.permissions.all())
                roots = Page.objects.filter(translation_key=site.root_page.translation_key)
                GroupPagePermission.objects.filter(group=shared, page__in=roots).update(group=own)
                GroupSitePermission.objects.filter(group=shared, site=site).update(group=own)
                PortalGroup.objects.create(site=site, role=role, group=own)


def strip_stock_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    GroupSitePermission = apps.get_model("wagtailcore", "GroupSitePermission")
    User = apps.get_model("accounts", "User")

    for group in Group.objects.filter(name__in=STOCK_GROUPS, portal_role__isnull=True):
        GroupPagePermission.objects.filter(group=group).delete()
        GroupCollectionPermission.objects.filter(group=group).delete()
        GroupSitePermission.objects.filter(group=group).delete()
        if not User.objects.filter(groups=group).exists():
            group.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_portalgroup"),
        ("accounts", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [
        migrations.RunPython(link_portal_groups, migrations.RunPython.noop),
        migrations.RunPython(strip_stock_groups, migrations.RunPython.noop),
    ]
