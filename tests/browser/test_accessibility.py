"""axe-core on every public page of both demo portals (both languages), the signup and sign-in
pages, the mission search and a mission page, the volunteer space and the association dashboard:
no serious or critical violation of the WCAG 2.1 A and AA rules. Each page is also checked as a
person sees it (`Browser.see`) and photographed."""

from datetime import timedelta

from django.utils import timezone
from wagtail.models import Page, Site

from conversations import services as conversations
from conversations.models import Side
from missions import services as mission_services
from missions.models import Mission
from organisations.models import Organisation
from tests import factories as make
from tests.browser.support import DESKTOP, account, axe_violations, sign_in


def test_the_demo_portals_are_there(db):
    """What the journeys start from (and, run alone, what makes pytest-django set the test
    database up: the journeys use a copy of it)."""
    assert set(Site.objects.values_list("hostname", flat=True)) >= {
        "localhost",
        "covid19.localhost",
    }


def public_urls() -> list[str]:
    """Every live, public page of every portal, as https URLs (both languages)."""
    hosts = {site.pk: site.hostname for site in Site.objects.all()}
    urls = []
    for page in Page.objects.live().public().filter(depth__gt=1).specific().order_by("path"):
        parts = page.get_url_parts()
        if parts and parts[0] in hosts:
            urls.append(f"https://{hosts[parts[0]]}{parts[2]}")
    return urls


def audit(browser, page, url: str, found: dict) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    browser.see(page, url.split("://", 1)[1])
    if violations := axe_violations(page):
        found[url] = violations


def report(found: dict) -> str:
    lines = []
    for url, violations in found.items():
        for violation in violations:
            lines.append(f"{url}: {violation['id']} ({violation['impact']}) {violation['help']}")
            lines += [f"    {target}" for target in violation["targets"]]
    return "\n".join(lines)


def test_public_pages_and_account_pages_have_no_serious_violation(browser, server):
    urls = public_urls()
    assert sum("covid19.localhost" in url for url in urls) >= 2, urls
    mission = Mission.objects.public(Site.objects.get(hostname="localhost")).order_by("pk")[0]
    for host in ("localhost", "covid19.localhost"):
        urls += [
            f"https://{host}/fr/inscription/",
            f"https://{host}/fr/compte/connexion/",
            f"https://{host}/fr/missions/",
            f"https://{host}/en/missions/",
        ]
    urls.append(f"https://localhost/fr/missions/{mission.pk}/")
    found: dict = {}
    page = browser.page(viewport=DESKTOP)
    for url in urls:
        audit(browser, page, url, found)

    organisation = Organisation.objects.get(name="Épicerie solidaire de Belleville")
    manager = account(make.manager, organisation, prefix="a11y-manager")
    dashboard = f"/fr/espace-association/{organisation.pk}/"
    signed_in = browser.page()
    sign_in(browser, signed_in, manager.email, dashboard)
    own = organisation.missions.order_by("pk")[0]
    slotted = make.mission(organisation, title="Créneaux du samedi")  # its slots, applicants
    start = timezone.now() + timedelta(days=3)
    mission_services.save_slots(
        slotted,
        [
            mission_services.SlotChange(None, start, start + timedelta(hours=3), 1),
            mission_services.SlotChange(
                None, start + timedelta(days=1), start + timedelta(days=1, hours=3), 2
            ),
        ],
    )
    first = slotted.slots.order_by("start")[0]
    applied = [
        mission_services.apply(slotted.pk, make.volunteer(), "", [first.pk]) for _ in range(2)
    ]
    # A thread on both sides: the volunteer wrote, the association answers; the manager is a
    # volunteer elsewhere too, with a thread of their own.
    conversations.post_message(
        applied[0], applied[0].volunteer, Side.VOLUNTEER, "Bonjour, faut-il apporter des gants ?"
    )
    conversations.save_answer(organisation, "Matériel", "Tout le matériel est fourni sur place.")
    elsewhere = Mission.objects.public(Site.objects.get(hostname="localhost")).exclude(
        organisation=organisation
    )[0]
    own_application = mission_services.apply(elsewhere.pk, manager, "Disponible le samedi")
    conversations.post_message(
        own_application, own_application.volunteer, Side.VOLUNTEER, "Je peux venir à 9 h."
    )
    for path in (
        dashboard,
        f"/fr/espace-association/{organisation.pk}/missions/{own.pk}/candidatures/",
        f"/fr/espace-association/{organisation.pk}/missions/{own.pk}/",
        f"/fr/espace-association/{organisation.pk}/missions/{slotted.pk}/candidatures/",
        f"/fr/espace-association/{organisation.pk}/missions/{slotted.pk}/",
        slotted.get_absolute_url(),
        f"/fr/missions/{slotted.pk}/candidater/",
        "/fr/espace/",
        "/fr/espace/candidatures/",
        "/fr/espace/favoris/",
        f"/fr/espace-association/{organisation.pk}/missions/{slotted.pk}/candidatures/"
        f"{applied[0].pk}/messages/",
        f"/fr/espace-association/{organisation.pk}/reponses-types/",
        f"/fr/espace/candidatures/{own_application.pk}/messages/",
    ):
        audit(browser, signed_in, f"https://localhost{path}", found)

    assert not found, "axe-core, serious or critical:\n" + report(found)
