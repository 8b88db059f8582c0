from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from wagtail.models import Site

from tenants import hosts
from tenants.models import PortalSettings
from tenants.switches import apply

ON_OFF = {"on": True, "off": False}
OPEN_CLOSED = {"open": True, "closed": False}


class Command(BaseCommand):
    help = (
        "Flip a portal's switches from the command line, through the same code path as the "
        "admin: python manage.py portal_switch <hostname> [--domain NEW] [--degraded on|off] "
        "[--signups open|closed]"
    )

    def add_arguments(self, parser):
        parser.add_argument("hostname", help="current hostname (or an alias) of the portal")
        parser.add_argument("--domain", help="new public hostname; the old one will redirect")
        parser.add_argument("--degraded", choices=ON_OFF)
        parser.add_argument("--signups", choices=OPEN_CLOSED)

    @no_translations  # operators read English, like the command's own messages
    def handle(self, hostname, domain, degraded, signups, **options):
        entry = hosts.build_host_map().get(hostname.lower())
        if entry is None:
            raise CommandError(f"No portal answers on {hostname}.")
        site = Site.objects.get(pk=entry.site_id)
        changes = {}
        if domain:
            changes["public_domain"] = domain.strip().lower()
        if degraded:
            changes["degraded_mode"] = ON_OFF[degraded]
        if signups:
            changes["signups_open"] = OPEN_CLOSED[signups]
        if not changes:
            raise CommandError("Nothing to change: give --domain, --degraded or --signups.")
        try:
            apply(site, source="command", **changes)
        except ValidationError as exc:
            raise CommandError("Nothing changed: " + "; ".join(exc.messages)) from exc
        site.refresh_from_db()
        portal = PortalSettings.for_site(site)
        self.stdout.write(
            self.style.SUCCESS(
                f"{site.site_name}: domain {site.hostname}, "
                f"degraded {'on' if portal.degraded_mode else 'off'}, "
                f"signups {'open' if portal.signups_open else 'closed'}"
            )
        )
