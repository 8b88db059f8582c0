"""The objects tests keep building, with defaults that let a test name only what it is about.

Each call makes new rows: emails and slugs carry a counter, so two calls never collide. The
defaults are a valid, public state (a validated organisation and mission on the organisation's
portal); pass a keyword to change any field. Requests go to HOST, the demo's national portal.
"""

import itertools

from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from wagtail.models import Page, Site

from accounts.models import User
from home.models import HomePage
from missions import services as missions
from missions.models import Application, Mission
from organisations.models import Membership, Organisation
from organisations.services import ensure_moderators_group
from portal.demo import load_demo
from tenants.portals import editors_group, ensure_portal

HOST = "localhost"
_counter = itertools.count(1)


def _number() -> int:
    return next(_counter)


def client_for(user=None, *, host: str = HOST, **options) -> Client:
    """A test client whose requests name `host` (a request may still pass its own
    HTTP_HOST), signed in as `user` if given. `options` go to Client (enforce_csrf_checks...)."""
    client = Client(HTTP_HOST=host, **options)
    if user is not None:
        client.force_login(user)
    return client


# --- People -----------------------------------------------------------------------------------


def user(email: str | None = None, password: str | None = None, **fields) -> User:
    """An account as the admin makes it: email not confirmed, no rights, no password unless
    given (an unusable one costs no hashing)."""
    return User.objects.create_user(email or f"user{_number()}@example.com", password, **fields)


def volunteer(email: str | None = None, password: str | None = None, **fields) -> User:
    """A volunteer whose email is confirmed: they may apply to missions."""
    fields.setdefault("first_name", "Camille")
    fields.setdefault("email_confirmed_at", timezone.now())
    return user(email or f"volunteer{_number()}@example.com", password, **fields)


def manager(organisation: Organisation, email: str | None = None, **fields) -> User:
    """A confirmed account, member of `organisation`."""
    person = volunteer(email or f"manager{_number()}@example.com", **fields)
    Membership.objects.create(organisation=organisation, user=person)
    return person


def moderator(site: Site, email: str | None = None, **fields) -> User:
    """A member of the portal's moderators group."""
    person = user(email or f"moderator{_number()}@example.com", **fields)
    person.groups.add(ensure_moderators_group(site))
    return person


def editor(site: Site, email: str | None = None, password: str | None = "x", **fields) -> User:
    """A member of the portal's editors group."""
    person = user(email or f"editor{_number()}@example.com", password, **fields)
    person.groups.add(editors_group(site))
    return person


def superuser(email: str | None = None, password: str | None = "x", **fields) -> User:
    return User.objects.create_superuser(
        email or f"root{_number()}@example.com", password, **fields
    )


# --- Portals, organisations, missions, applications -------------------------------------------


def portal(slug: str | None = None, name: str | None = None) -> Site:
    """A new portal at <slug>.localhost: a home page under Wagtail's root, its Site, settings
    and editors group, as an operator makes one (tenants.portals.ensure_portal)."""
    slug = slug or f"portail-{_number()}"
    home = Page.objects.get(depth=1).add_child(instance=HomePage(title=slug.title(), slug=slug))
    return ensure_portal(
        hostname=f"{slug}.localhost", name=name or f"Portail {slug}", root_page=home
    )


def organisation(site: Site, status: str = Organisation.Status.VALIDATED, **fields) -> Organisation:
    """An association on `site`, with an RNA number, named after its slug (as the demo's
    contact address is)."""
    slug = fields.pop("slug", None) or f"asso-{_number()}"
    fields.setdefault("name", slug.title())
    fields.setdefault("rna", "W751234567")
    fields.setdefault("contact_email", f"contact@{slug}.example.org")
    return Organisation.objects.create(site=site, slug=slug, status=status, **fields)


def mission(
    organisation: Organisation,
    status: str = Mission.Status.VALIDATED,
    sites: list[Site] | None = None,
    **fields,
) -> Mission:
    """An on-site mission in Paris with 3 places and a waiting list, shown on `sites` (the
    organisation's portal unless told)."""
    fields.setdefault("slug", f"mission-{_number()}")
    defaults = {
        "title": "Distribution",
        "description": "<p>Aider</p>",
        "postal_code": "75011",
        "city": "Paris",
        "latitude": 48.86,
        "longitude": 2.38,
        "places": 3,
    }
    made = Mission.objects.create(
        organisation=organisation, status=status, **{**defaults, **fields}
    )
    made.sites.set(sites if sites is not None else [organisation.site])
    return made


def application(mission: Mission, applicant: User | None = None, message: str = "") -> Application:
    """An application made as a volunteer makes it (missions.services.apply): the mission's
    count, the waiting list and the emails follow."""
    return missions.apply(mission.pk, applicant or volunteer(), message)


def signup_data(**fields) -> dict:
    """What a visitor types into the signup form (a valid adult, consenting)."""
    return {
        "email": "camille@example.com",
        "first_name": "Camille",
        "last_name": "Martin",
        "postal_code": "69007",
        "birth_date": "1990-05-01",
        "consent": "on",
        **fields,
    }


def demo_portals() -> dict:
    """The two demo portals by hostname, loaded again if a transactional test flushed the
    database since the session loaded them."""
    if not Site.objects.filter(hostname="covid19.localhost").exists():
        for alias in settings.CACHES:  # Wagtail's cached site root paths name the flushed rows
            caches[alias].clear()
        load_demo()
    return {site.hostname: site for site in Site.objects.all()}
