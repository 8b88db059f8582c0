"""A mission is shown only on its organisation's portal, whose moderators moderate it: links to
other portals made before that rule are removed (a mission left with none gets its own)."""

from django.db import migrations
from django.db.models import F


def keep_own_portal(apps, schema_editor):
    Mission = apps.get_model("missions", "Mission")
    links = Mission.sites.through.objects
    links.exclude(site_id=F("mission__organisation__site_id")).delete()
    for mission in Mission.objects.filter(sites=None).select_related("organisation"):
        mission.sites.add(mission.organisation.site_id)


class Migration(migrations.Migration):
    dependencies = [("missions", "0003_search_and_counts")]

    operations = [migrations.RunPython(keep_own_portal, migrations.RunPython.noop)]
