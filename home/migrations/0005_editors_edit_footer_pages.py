"""Each portal's editors choose its footer pages, as they edit its switches: the right to
change FooterSettings on their own site (new portals get it from tenants.portals)."""

from django.db import migrations


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    GroupSitePermission = apps.get_model("wagtailcore", "GroupSitePermission")
    PortalGroup = apps.get_model("tenants", "PortalGroup")

    links = PortalGroup.objects.filter(role="editors")
    if not links.exists():
        return
    # Django creates permissions after the migrations run: make this one now, as it would.
    content_type, _ = ContentType.objects.get_or_create(app_label="home", model="footersettings")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="change_footersettings",
        defaults={"name": "Can change footer pages"},
    )
    for link in links:
        GroupSitePermission.objects.get_or_create(
            group_id=link.group_id, site_id=link.site_id, permission=permission
        )


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0004_accessibility_sitemap_footer"),
        ("tenants", "0005_link_portal_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
