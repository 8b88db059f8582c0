"""Portal editors may submit their pages for translation (wagtail-localize's global permission;
tenants.middleware.TranslationScopeMiddleware keeps it to the pages they may edit)."""

from django.db import migrations


def grant(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    PortalGroup = apps.get_model("tenants", "PortalGroup")
    permission = Permission.objects.filter(
        content_type__app_label="wagtail_localize", codename="submit_translation"
    ).first()
    if permission is None:
        return
    for link in PortalGroup.objects.filter(role="editors").select_related("group"):
        link.group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0005_link_portal_groups"),
        ("wagtail_localize", "0006_create_submit_translation_permission"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
