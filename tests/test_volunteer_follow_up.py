"""The volunteer space after applying: cancelling with a reason the association reads, "did it
happen?" after the mission (the follow-up email's link), favourites, and what the data export
and the account deletion do with them."""

import datetime
import json
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from accounts.services import delete_account
from emails.models import OutboundEmail
from emails.sending import render
from missions import services
from missions.models import Application, Favourite, Mission
from tests import factories as make
from tests.factories import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("french")]

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


class Controls(HTMLParser):
    """The form controls of a page, each with the classes of the elements around it."""

    def __init__(self, text):
        super().__init__()
        self.stack, self.controls = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.controls.append((tag, attrs, [c for c in self.stack]))
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self.stack.append(attrs.get("class") or "")

    def handle_endtag(self, tag):
        if tag not in ("input", "br", "img", "meta", "link", "hr") and self.stack:
            self.stack.pop()


def assert_dsfr_first_load(text: str) -> int:
    """Every visible control of the page's main part carries its DSFR class (radios and
    checkboxes sit in their DSFR group) and no error is shown. Returns how many controls were
    checked."""
    text = text[text.index("<main") : text.index("</main>")]
    checked = 0
    for tag, attrs, around in Controls(text).controls:
        kind = attrs.get("type", "text") if tag == "input" else tag
        if kind in ("hidden", "submit"):
            continue
        if kind in ("radio", "checkbox"):
            assert f"fr-{kind}-group" in around[-1], (tag, attrs)
        elif tag == "select":
            assert "fr-select" in attrs.get("class", "").split(), attrs
        else:
            assert "fr-input" in attrs.get("class", "").split(), attrs
        checked += 1
    for error in ("fr-error-text", "fr-message--error", "--error", "fr-alert--error"):
        assert error not in text
    return checked


@pytest.fixture
def org(demo):
    return make.organisation(demo["localhost"], name="Épicerie solidaire")


@pytest.fixture
def boss(org):
    return make.manager(org, "boss@example.com", first_name="Bea")


@pytest.fixture
def volunteer():
    return make.volunteer("zoe@example.com", first_name="Zoé", last_name="Martin")


def applicants_page(boss, org, mission) -> str:
    url = f"/fr/espace-association/{org.pk}/missions/{mission.pk}/candidatures/"
    response = client_for(boss).get(url)
    assert response.status_code == 200
    return response.text


# --- Cancelling with a reason ---------------------------------------------------------------


def test_the_cancel_form_asks_why_in_dsfr_controls(org, volunteer):
    application = make.application(make.mission(org, title="Collecte"), volunteer)
    page = client_for(volunteer).get("/fr/espace/candidatures/").text
    assert page.count('name="application"') == 1
    assert f'id="cancel-reason-{application.pk}"' in page
    for value in Application.CancelReason.values:
        assert f'<option value="{value}">' in page
    assert assert_dsfr_first_load(page) == 2  # the reason list and the text


def test_cancelling_with_a_reason_tells_the_managers_and_the_applicants_page(org, boss, volunteer):
    mission = make.mission(org, title="Collecte")
    application = make.application(mission, volunteer)
    response = client_for(volunteer).post(
        "/fr/espace/candidatures/",
        {
            "application": application.pk,
            "cancel_reason": "unavailable",
            "reason": "Je déménage <b>samedi</b>",
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.CANCELLED
    assert application.cancel_reason == "unavailable"
    assert application.reason_text == "Je déménage <b>samedi</b>"

    email = OutboundEmail.objects.get(
        idempotency_key=f"application-cancelled:{application.pk}:{boss.pk}"
    )
    sent = render(email)
    assert "Zoé Martin a annulé sa candidature à « Collecte »" in sent.text
    assert "Motif indiqué : plus disponible." in sent.text
    assert "« Je déménage <b>samedi</b> »" in sent.text
    assert "Je déménage &lt;b&gt;samedi&lt;/b&gt;" in sent.html  # escaped in HTML

    page = applicants_page(boss, org, mission)
    assert "Annulée : Je ne suis plus disponible" in page
    assert "Je déménage &lt;b&gt;samedi&lt;/b&gt;" in page


def test_a_cancellation_without_a_reason_still_cancels_and_an_unknown_one_is_refused(
    org, boss, volunteer
):
    first = make.application(make.mission(org), volunteer)
    second = make.application(make.mission(org), volunteer)
    client = client_for(volunteer)
    client.post("/fr/espace/candidatures/", {"application": second.pk, "cancel_reason": "bored"})
    assert Application.objects.get(pk=second.pk).status == Application.Status.PENDING
    client.post("/fr/espace/candidatures/", {"application": first.pk})
    first.refresh_from_db()
    assert first.status == Application.Status.CANCELLED and first.cancel_reason == ""
    email = OutboundEmail.objects.get(idempotency_key=f"application-cancelled:{first.pk}:{boss.pk}")
    assert "Motif" not in render(email).text


# --- "Did it happen?" -----------------------------------------------------------------------


def accepted(org, boss, volunteer, **dates) -> Application:
    """An accepted application to a mission that then gets `dates` (set afterwards: nobody
    can apply to a mission that has ended)."""
    mission = make.mission(org, title="Maraude")
    application = make.application(mission, volunteer)
    services.decide(application.pk, boss, accept=True)
    Mission.objects.filter(pk=mission.pk).update(**dates)
    return Application.objects.select_related("mission").get(pk=application.pk)


def test_the_follow_up_email_links_to_the_answer_page(org, boss, volunteer):
    yesterday = TODAY() - DAY
    application = accepted(org, boss, volunteer, start_date=yesterday - DAY, end_date=yesterday)
    english = make.volunteer(language="en")
    other = make.application(make.mission(org), english)
    services.decide(other.pk, boss, accept=True)
    Mission.objects.filter(pk=other.mission_id).update(start_date=yesterday, end_date=None)

    services.follow_up(yesterday)  # a one-day mission (no end date) is asked too

    email = OutboundEmail.objects.get(
        idempotency_key__startswith=f"application-followup:{application.pk}:"
    )
    sent = render(email)
    links = re.findall(r'href="([^"]+/bilan/)"', sent.html)
    assert len(links) == 1
    path = urlparse(links[0]).path
    assert path == f"/fr/espace/candidatures/{application.pk}/bilan/"
    assert f"{path}" in sent.text and "a-t-elle eu lieu" in sent.text
    page = client_for(volunteer).get(path)
    assert page.status_code == 200 and "Maraude" in page.text
    assert assert_dsfr_first_load(page.text) == 3  # yes, no, the comment

    in_english = OutboundEmail.objects.get(
        idempotency_key__startswith=f"application-followup:{other.pk}:"
    )
    assert f"/en/espace/candidatures/{other.pk}/bilan/" in render(in_english).html


def test_answering_saves_it_and_the_association_sees_it(org, boss, volunteer):
    application = accepted(org, boss, volunteer, start_date=TODAY() - DAY)
    client = client_for(volunteer)
    url = f"/fr/espace/candidatures/{application.pk}/bilan/"
    listing = unescape(client.get("/fr/espace/candidatures/").text)
    assert f'href="{url}">La mission a-t-elle eu lieu ? Répondre</a>' in listing

    response = client.post(url, {"happened": "yes", "comment": "Super équipe"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.volunteer_attended is True
    assert application.attendance_comment == "Super équipe"
    assert application.attendance_answered_at is not None
    assert application.status == Application.Status.ACCEPTED  # the managers still decide
    page = applicants_page(boss, org, application.mission)
    assert "Dit que la mission a eu lieu" in page and "Super équipe" in page

    client.post(url, {"happened": "no", "comment": ""})  # changed their mind
    application.refresh_from_db()
    assert application.volunteer_attended is False and application.attendance_comment == ""
    page = unescape(applicants_page(boss, org, application.mission))
    assert "Dit que la mission n'a pas eu lieu" in page
    assert 'value="no" required checked' in client.get(url).text


def test_a_bad_answer_is_a_form_error(org, boss, volunteer):
    application = accepted(org, boss, volunteer, start_date=TODAY())
    response = client_for(volunteer).post(
        f"/fr/espace/candidatures/{application.pk}/bilan/", {"happened": "maybe"}
    )
    assert response.status_code == 400 and "fr-message--error" in response.text
    application.refresh_from_db()
    assert application.volunteer_attended is None


def test_only_ones_own_accepted_application_after_the_mission_began(org, boss, volunteer):
    started = accepted(org, boss, volunteer, start_date=TODAY() - DAY)
    intruder = client_for(make.volunteer())
    url = f"/fr/espace/candidatures/{started.pk}/bilan/"
    assert intruder.get(url).status_code == 404
    assert intruder.post(url, {"happened": "no"}).status_code == 404

    later = accepted(org, boss, make.volunteer(), start_date=TODAY() + DAY)
    client = client_for(later.volunteer)
    too_early = client.post(f"/fr/espace/candidatures/{later.pk}/bilan/", {"happened": "yes"})
    assert too_early.status_code == 403
    pending = make.application(make.mission(org, start_date=TODAY()), later.volunteer)
    not_accepted = client.post(f"/fr/espace/candidatures/{pending.pk}/bilan/", {"happened": "yes"})
    assert not_accepted.status_code == 403
    assert not Application.objects.filter(volunteer_attended__isnull=False).exists()
    assert client_for().get(url).status_code == 302  # signed out: the sign-in page


# --- Favourites -----------------------------------------------------------------------------


def test_favourites_add_list_remove(org, volunteer):
    mission = make.mission(org, title="Jardin partagé", city="Lyon", postal_code="69007")
    client = client_for(volunteer)
    assert "Aucun favori" in client.get("/fr/espace/favoris/").text

    confirm = client.get(f"/fr/espace/favoris/{mission.pk}/")  # back from the sign-in page
    assert confirm.status_code == 200 and "Jardin partagé" in confirm.text
    assert 'name="action" value="add"' in confirm.text
    assert assert_dsfr_first_load(confirm.text) == 0

    response = client.post(f"/fr/espace/favoris/{mission.pk}/", {"action": "add"})
    assert response.status_code == 302 and response["Location"] == "/fr/espace/favoris/"
    client.post(f"/fr/espace/favoris/{mission.pk}/", {"action": "add"})  # twice: one row
    assert Favourite.objects.filter(volunteer=volunteer).count() == 1

    listing = client.get("/fr/espace/favoris/")
    assert "no-store" in listing["Cache-Control"]
    assert f'href="{mission.get_absolute_url()}"' in listing.text
    assert "Jardin partagé" in listing.text and "Lyon" in listing.text
    assert assert_dsfr_first_load(listing.text) == 0

    Mission.objects.filter(pk=mission.pk).update(status=Mission.Status.CLOSED)
    closed = client.get("/fr/espace/favoris/").text
    assert "Plus ouverte" in closed and f'href="{mission.get_absolute_url()}"' not in closed

    client.post(f"/fr/espace/favoris/{mission.pk}/", {"action": "remove"})
    assert not Favourite.objects.filter(volunteer=volunteer).exists()


def test_the_button_toggles_without_an_action(org, volunteer):
    mission = make.mission(org)
    client = client_for(volunteer)
    client.post(f"/fr/espace/favoris/{mission.pk}/")
    assert Favourite.objects.filter(volunteer=volunteer, mission=mission).exists()
    assert 'value="remove"' in client.get(f"/fr/espace/favoris/{mission.pk}/").text
    client.post(f"/fr/espace/favoris/{mission.pk}/")
    assert not Favourite.objects.filter(volunteer=volunteer).exists()


def test_favourites_are_ones_own_and_only_of_open_missions_here(org, volunteer, demo):
    mission = make.mission(org)
    services.add_favourite(volunteer, mission)
    other = make.volunteer()
    client = client_for(other)
    client.post(f"/fr/espace/favoris/{mission.pk}/", {"action": "remove"})
    assert Favourite.objects.filter(volunteer=volunteer, mission=mission).exists()
    assert mission.title not in client.get("/fr/espace/favoris/").text

    draft = make.mission(org, status=Mission.Status.DRAFT)
    elsewhere = make.mission(make.organisation(demo["covid19.localhost"]))
    for hidden in (draft, elsewhere):
        assert client.post(f"/fr/espace/favoris/{hidden.pk}/", {"action": "add"}).status_code == 404
        assert client.get(f"/fr/espace/favoris/{hidden.pk}/").status_code == 404
    assert client.post("/fr/espace/favoris/999999999/", {"action": "add"}).status_code == 404
    assert not Favourite.objects.filter(volunteer=other).exists()

    signed_out = client_for().post(f"/fr/espace/favoris/{mission.pk}/", {"action": "add"})
    assert signed_out.status_code == 302 and "/compte/connexion/" in signed_out["Location"]


def test_favourites_need_a_csrf_token_or_the_same_origin(org, volunteer):
    mission = make.mission(org)
    client = client_for(volunteer, enforce_csrf_checks=True)
    url = f"/fr/espace/favoris/{mission.pk}/"
    assert client.post(url, {"action": "add"}).status_code == 403
    forged = client.post(url, {"action": "add"}, HTTP_ORIGIN="https://evil.example")
    assert forged.status_code == 403
    assert not Favourite.objects.exists()
    # The public mission page carries no token: the browser's Origin header vouches for it.
    same_site = client.post(url, {"action": "add"}, HTTP_ORIGIN="http://localhost")
    assert same_site.status_code == 302
    assert Favourite.objects.filter(volunteer=volunteer).count() == 1
    # The volunteer space's own forms carry a token.
    listing = client.get("/fr/espace/favoris/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing).group(1)
    client.post(url, {"action": "remove", "csrfmiddlewaretoken": token})
    assert not Favourite.objects.exists()


# --- Data protection ------------------------------------------------------------------------


def test_the_export_includes_favourites_and_answers_and_deletion_erases_them(org, boss, volunteer):
    application = accepted(org, boss, volunteer, start_date=TODAY() - DAY)
    services.answer_attendance(application.pk, volunteer, True, "Merci Bea")
    saved = make.mission(org, title="Collecte de jouets")
    services.add_favourite(volunteer, saved)
    cancelled = make.application(make.mission(org), volunteer)
    services.cancel(cancelled.pk, volunteer, "Mon fils est malade", "personal")

    data = json.loads(client_for(volunteer).get("/fr/espace/export/").content)
    assert [f["mission"] for f in data["favourites"]] == ["Collecte de jouets"]
    answered, withdrawn = data["applications"]
    assert answered["you_said_it_happened"] is True
    assert answered["your_comment_after_the_mission"] == "Merci Bea"
    assert withdrawn["cancel_reason"] == "personal"
    assert withdrawn["details"] == "Mon fils est malade"

    delete_account(volunteer)

    assert not Favourite.objects.filter(volunteer=volunteer).exists()
    application.refresh_from_db()
    assert application.volunteer_attended is None and application.attendance_comment == ""
    assert Application.objects.get(pk=cancelled.pk).reason_text == ""
    texts = json.dumps([e.context for e in OutboundEmail.objects.all()], ensure_ascii=False)
    assert "Mon fils" not in texts and "Zoé" not in texts
