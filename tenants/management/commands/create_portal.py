from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from wagtail.models import Site

from tenants import hosts
from tenants.models import PortalGroup
from tenants.portals import create_portal


class Command(BaseCommand):
    help = (
        "Create a campaign portal: its site, settings, French and English home pages (copied "
        "with their whole tree from another portal with --copy-from), editors and moderators "
        "groups and image collection. The same path as a site added in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hostname", required=True, help="the portal's public hostname")
        parser.add_argument("--name", required=True, help="the portal's name (its home title)")
        parser.add_argument("--copy-from", help="hostname of a portal whose pages to copy")
        parser.add_argument("--port", type=int, default=80)

    @no_translations  # operators read English, like portal_switch
    def handle(self, hostname, name, copy_from, port, **options):
        source = None
        if copy_from:
            entry = hosts.build_host_map().get(copy_from.strip().lower())
            if entry is None:
                raise CommandError(f"No portal answers on {copy_from}.")
            source = Site.objects.get(pk=entry.site_id)
        try:
            site = create_portal(hostname=hostname, name=name, copy_from=source, port=port)
        except ValidationError as exc:
            raise CommandError("No portal created: " + "; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Portal {site.site_name} created: {site.root_url}/"))
        for link in PortalGroup.objects.filter(site=site).select_related("group"):
            self.stdout.write(f"  {link.get_role_display()} group: {link.group.name}")
        self.stdout.write(
            "  Add people to these groups in the admin (Settings > Groups, or on each user). "
            "First run: python manage.py createsuperuser creates the operator's account."
        )
