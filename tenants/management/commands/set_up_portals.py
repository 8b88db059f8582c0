from django.core.management.base import BaseCommand, no_translations
from wagtail.models import Site

from tenants.portals import set_up_portal


class Command(BaseCommand):
    help = (
        "Bring every portal up to what a new one gets (settings row, root page in every "
        "language, editors' and moderators' groups and rights, image collection). Idempotent: "
        "run it after an upgrade that gives editors or moderators new rights."
    )

    @no_translations
    def handle(self, **options):
        for site in Site.objects.order_by("hostname"):
            set_up_portal(site)
            self.stdout.write(f"{site.hostname}: up to date")
