import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from organisations.models import Membership, Organisation
from portal.demo import ensure_user, load_demo
from portal.demo_data import PORTALS
from tenants.portals import editors_group


class Command(BaseCommand):
    help = "Create (or bring up to date) the two demo portals, their pages and missions."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 80)))

    def handle(self, *args, port, **options):
        sites = load_demo(port=port)
        # A fixed password only where it can do no harm; production gets a random one.
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or (
            "admin" if settings.DEBUG else secrets.token_urlsafe(12)
        )
        admin, created = ensure_user("admin@localhost", password, is_staff=True, is_superuser=True)
        self.stdout.write(self.style.SUCCESS("Demo portals ready:"))
        for portal in PORTALS:
            site = sites[portal["slug"]]
            self.stdout.write(f"  {site.root_url}/fr/  ({site.site_name})")
            editor, editor_created = ensure_user(f"editeur@{site.hostname}", password)
            editor.groups.add(editors_group(site))
            if editor_created:
                self.stdout.write(f"    editor: {editor.email} / {password}")

        manager, manager_created = ensure_user(
            "association@localhost", password, first_name="Claire", last_name="Martin"
        )
        for organisation in Organisation.objects.filter(slug="banque-alimentaire-rhone"):
            Membership.objects.get_or_create(organisation=organisation, user=manager)
        if manager_created:
            self.stdout.write(f"Association manager: {manager.email} / {password}")
        admin_url = sites[PORTALS[0]["slug"]].root_url + "/admin/"
        if created:
            self.stdout.write(f"Admin: {admin.email} / {password}  ({admin_url})")
        else:
            self.stdout.write("Admin: admin@localhost already exists (password unchanged).")
        if settings.TWO_FACTOR_ENROL_AT_SIGN_IN:
            how = "scan the QR code shown after the password with an authenticator app"
        else:
            how = "ask for the set-up link shown after the password (sent by email)"
        self.stdout.write(
            f"  The admin needs a second factor (TOTP): at first sign-in, {how}, then type "
            "its 6-digit code (FreeOTP, Aegis, Google Authenticator...)."
        )
