"""Journeys through the portal in a real browser (chromium), against the production stack of
tests/browser/conftest.py. After each navigation `browser.see` checks what a person sees
(tests/browser/support.py) and photographs the page into tests/browser/screenshots/."""

import csv
import io
import re
import time

from missions.models import Application, Mission
from organisations.models import Organisation
from tests import factories as make
from tests.browser.support import BASE, DESKTOP, account, sign_in, unique_email


def email_to(mailbox, address: str, subject_part: str = "", timeout: float = 20) -> dict:
    """The first email the fake Brevo received for `address` (whose subject has the part)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mailbox.messages:
            if address in message["to"] and subject_part in (message["subject"] or ""):
                return message
        time.sleep(0.2)
    subjects = [(m["to"], m["subject"]) for m in mailbox.messages]
    raise AssertionError(f"no email to {address} ({subject_part!r}) in {timeout}s: {subjects}")


def link_in(message: dict, path_part: str) -> str:
    """The link to this portal in the email whose path holds `path_part`."""
    body = message["text"] or message["html"]
    links = re.findall(r"https://[\w.-]+(?::\d+)?/[^\s\"'<>]*", body)
    found = [link for link in links if path_part in link]
    assert found, f"no link with {path_part} in: {body}"
    return found[0]


def sign_up(browser, page, email: str, *, javascript: bool = True) -> None:
    """Fill in the signup form, already open, and send it."""
    page.locator("#id_email").fill(email)
    page.locator("#id_first_name").fill("Camille")
    page.locator("#id_last_name").fill("Martin")
    page.locator("#id_postal_code").fill("69007")
    page.locator("#id_birth_date").fill("1990-04-12")
    page.locator("label[for=id_consent]").click()
    page.get_by_role("button", name="Créer mon compte").click()
    if javascript:  # the script posts JSON and says so on the same page
        page.locator("#signup-done").wait_for(state="visible")
        browser.see(page, "signup sent")
    else:  # the form itself is posted: the answer is a page of its own (202)
        page.wait_for_load_state("load")
        assert "/fr/inscription/" in page.url
        browser.see(page, "signup sent without javascript")


def confirm_and_apply(browser, page, mailbox, email: str, mission: Mission) -> None:
    """Open the confirmation link from the email, land on the application, send it, and find
    it in the volunteer's space."""
    message = email_to(mailbox, email)
    page.goto(link_in(message, "/compte/confirmer/"))
    browser.see(page, "confirmation link")
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.wait_for_url(re.compile(rf"/fr/missions/{mission.pk}/candidater/"))
    browser.see(page, "application form")
    page.locator("#id_message").fill("Disponible le samedi.")
    page.get_by_role("button", name="Envoyer ma proposition d'aide").click()
    page.wait_for_url(re.compile(r"\?sent=1"))
    browser.see(page, "application sent")
    assert page.get_by_text("Votre proposition d'aide est envoyée").is_visible()

    page.get_by_role("link", name="Mes candidatures").first.click()
    page.wait_for_url(f"{BASE}/fr/espace/candidatures/")
    browser.see(page, "my applications")
    card = page.locator(".fr-card", has_text=mission.title)
    assert card.is_visible()
    assert card.locator(".fr-badge").inner_text().strip().lower() == "en attente"
    application = Application.objects.get(mission=mission, volunteer__email=email)
    assert application.status == "pending" and application.message == "Disponible le samedi."


def test_a_visitor_on_a_phone_finds_a_mission_signs_up_and_applies(browser, server, mailbox):
    mission = Mission.objects.get(title="Trier les denrées collectées")
    email = unique_email("phone")
    page = browser.page()

    page.goto(f"{BASE}/fr/missions/")
    browser.see(page, "missions search")
    page.locator("#postal_code").fill("69007")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.wait_for_url(re.compile(r"postal_code=69007"))
    browser.see(page, "missions near 69007")

    page.get_by_role("link", name=mission.title).click()
    page.wait_for_url(re.compile(rf"/fr/missions/{mission.pk}"))
    browser.see(page, "mission")
    page.get_by_role("link", name="Je propose mon aide").click()
    page.wait_for_url(re.compile(rf"/fr/missions/{mission.pk}/candidater/"))
    browser.see(page, "offer help signed out")
    assert page.get_by_role("link", name="Je n'ai pas encore de compte").is_visible()
    assert page.get_by_role("link", name="J'ai déjà un compte").is_visible()

    page.get_by_role("link", name="Je n'ai pas encore de compte").click()
    page.wait_for_url(re.compile(r"/fr/inscription/\?next="))
    browser.see(page, "signup")
    sign_up(browser, page, email)
    confirm_and_apply(browser, page, mailbox, email, mission)


def test_signing_up_without_javascript(browser, server, mailbox):
    mission = Mission.objects.get(title="Préparer et distribuer des colis")
    email = unique_email("nojs")
    page = browser.page(viewport=DESKTOP, javascript=False)

    page.goto(f"{BASE}/fr/missions/{mission.pk}/candidater/")
    browser.see(page, "offer help signed out")
    page.get_by_role("link", name="Je n'ai pas encore de compte").click()
    page.wait_for_url(re.compile(r"/fr/inscription/\?next="))
    browser.see(page, "signup")
    # The cached signup page holds no CSRF token: the browser's Origin header (https, this very
    # portal) vouches for the POST, which production accepts over HTTPS only (portal/csrf.py).
    sign_up(browser, page, email, javascript=False)
    assert page.get_by_role("heading", level=1).is_visible()
    confirm_and_apply(browser, page, mailbox, email, mission)


def test_a_manager_accepts_an_applicant_who_is_told_and_exports_the_list(browser, server, mailbox):
    organisation = Organisation.objects.get(name="Épicerie solidaire de Belleville")
    mission = Mission.objects.get(title="Accueillir les bénéficiaires à l'épicerie")
    manager = account(make.manager, organisation, prefix="manager")
    volunteer = account(make.volunteer, prefix="applicant")
    make.application(mission, volunteer, "Je connais le quartier.")
    applicants = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/candidatures/"

    office = browser.page()
    sign_in(browser, office, manager.email, applicants)
    browser.see(office, "applicants")
    # The header knows who is signed in (issue 19): drawn by the server on this private page...
    header = office.locator(".fr-header__tools .header-account")
    assert manager.first_name in header.text_content()
    assert organisation.name in header.text_content()
    # DSFR copies the header's first tool links into the small screens' menu, inline styles
    # included: the account menu (a collapse DSFR measures) is not among them.
    assert office.locator(".fr-header__menu-links").first.locator(".fr-collapse").count() == 0
    row = office.locator("tr", has_text=volunteer.email)
    assert "En attente" in row.inner_text()
    # A click where the box is drawn (the label's ::before lies over the transparent input).
    row.get_by_role("checkbox").click(force=True)
    assert row.get_by_role("checkbox").is_checked()
    office.locator("#id_action").select_option("accept")
    office.get_by_role("button", name="Appliquer").click()
    office.wait_for_load_state("load")
    browser.see(office, "applicant accepted")
    assert "Acceptée" in office.locator("tr", has_text=volunteer.email).inner_text()

    with office.expect_download() as download:
        office.get_by_role("link", name="CSV").click()
    exported = download.value
    assert exported.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(open(exported.path(), encoding="utf-8-sig").read())))
    assert any(volunteer.email in line and "Acceptée" in line for line in rows), rows

    # ... and by account.js from /api/v1/me on a public page, which is the same for everyone.
    office.goto(f"{BASE}/fr/missions/")
    browser.see(office, "public page, signed in")
    signed_in = '.fr-header__tools .header-account [data-account-state="in"]'
    office.wait_for_selector(signed_in, state="attached")
    assert organisation.name in office.locator(signed_in).first.text_content()

    accepted = email_to(mailbox, volunteer.email, "Candidature acceptée")
    assert mission.title in accepted["subject"]
    phone = browser.page()
    sign_in(browser, phone, volunteer.email, "/fr/espace/candidatures/")
    browser.see(phone, "volunteer sees accepted")
    card = phone.locator(".fr-card", has_text=mission.title)
    assert card.locator(".fr-badge").inner_text().strip().lower() == "acceptée"


def test_a_volunteer_cancels_and_the_waiting_list_moves_up(browser, server, mailbox):
    organisation = Organisation.objects.get(name="Épicerie solidaire de Belleville")
    mission = make.mission(organisation, title="Tenir la caisse un samedi", places=1)
    holder = account(make.volunteer, prefix="holder")
    waiting = account(make.volunteer, prefix="waiting")
    make.application(mission, holder, "Présent le samedi.")
    make.application(mission, waiting, "Disponible aussi.")
    assert Application.objects.get(mission=mission, volunteer=waiting).status == "waitlisted"

    page = browser.page()
    sign_in(browser, page, holder.email, "/fr/espace/candidatures/")
    browser.see(page, "applications before cancelling")
    card = page.locator(".fr-card", has_text=mission.title)
    card.locator("summary", has_text="Annuler ma candidature").click()
    card.get_by_label("Pourquoi annulez-vous").select_option("unavailable")
    card.get_by_label("Un mot pour l'association").fill("Je déménage ce mois-ci.")
    card.get_by_role("button", name="Confirmer l'annulation").click()
    page.wait_for_load_state("load")
    browser.see(page, "application cancelled")
    card = page.locator(".fr-card", has_text=mission.title)
    assert card.locator(".fr-badge").inner_text().strip().lower() == "annulée"
    assert "Je ne suis plus disponible" in card.inner_text()

    cancelled = Application.objects.get(mission=mission, volunteer=holder)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "unavailable")
    promoted = Application.objects.get(mission=mission, volunteer=waiting)
    assert promoted.status == "pending"
    told = email_to(mailbox, waiting.email, "Une place s'est libérée")
    assert mission.title in told["subject"]

    # The promoted volunteer finds the place in their space.
    phone = browser.page()
    sign_in(browser, phone, waiting.email, "/fr/espace/candidatures/")
    browser.see(phone, "promoted volunteer")
    badge = phone.locator(".fr-card", has_text=mission.title).locator(".fr-badge")
    assert badge.inner_text().strip().lower() == "en attente"
