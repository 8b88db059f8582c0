""" "Je propose mon aide": the application page, for visitors signed in or not, and the rules
it shares with the API (missions.services.apply)."""

import datetime
import re
from html import unescape

import pytest
from django.utils import timezone

from accounts.models import User
from emails.models import OutboundEmail
from missions.models import Application
from tests import factories as make
from tests.test_mission_page import Head

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("french")]


@pytest.fixture
def org(demo):
    return make.organisation(demo["localhost"], name="Les Restos du Quartier")


@pytest.fixture
def mission(org):
    return make.mission(org, title="Maraude du soir", places=2)


def apply_url(mission, language="fr"):
    return f"/{language}/missions/{mission.pk}/candidater/"


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


def assert_dsfr_form(text):
    fields = Head(text).fields
    assert fields
    for field in fields:
        assert "fr-input" in field.get("class", "") or "fr-select" in field.get("class", "")
    assert not re.search(r'<p class="fr-error-text"[^>]*>[^<]+<', text.replace(" hidden>", ">"))
    assert "fr-input-group--error" not in text


def test_signed_out_the_page_offers_to_sign_up_or_in_and_come_back(client, mission):
    response = client.get(apply_url(mission))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    text = response.text
    back = f"next=%2Ffr%2Fmissions%2F{mission.pk}%2Fcandidater%2F"
    assert f'href="/fr/inscription/?{back}"' in text
    assert f'href="/fr/compte/connexion/?{back}"' in text
    assert not Application.objects.filter(mission=mission).exists()


def test_signed_in_the_form_sends_the_application_and_the_emails(mission, org):
    manager = make.manager(org)
    volunteer = make.volunteer()
    client = make.client_for(volunteer)
    page = client.get(apply_url(mission))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    (textarea,) = [f for f in Head(page.text).fields if f.get("name") == "message"]
    assert "fr-input" in textarea["class"].split()
    assert_dsfr_form(page.text)
    response = client.post(apply_url(mission), {"message": "Disponible le mardi"})
    assert response.status_code == 302
    assert response["Location"] == f"{apply_url(mission)}?sent=1"
    application = Application.objects.get(mission=mission, volunteer=volunteer)
    assert application.status == "pending" and application.message == "Disponible le mardi"
    keys = set(OutboundEmail.objects.values_list("idempotency_key", flat=True))
    assert f"application-received:{application.pk}" in keys
    assert f"application-manager:{application.pk}:{manager.pk}" in keys
    done = client.get(response["Location"]).text
    assert "Votre proposition d'aide est envoyée" in unescape(done)
    assert 'href="/fr/espace/candidatures/"' in done


def test_a_second_visit_says_already_applied(mission):
    volunteer = make.volunteer()
    make.application(mission, volunteer)
    client = make.client_for(volunteer)
    text = client.get(apply_url(mission)).text
    assert "Vous avez déjà proposé votre aide pour cette mission" in text
    assert "<textarea" not in text
    again = client.post(apply_url(mission), {"message": "encore"})
    assert again.status_code == 302 and "sent" not in again["Location"]
    assert Application.objects.filter(mission=mission, volunteer=volunteer).count() == 1


def test_a_full_mission_offers_its_waiting_list_before_applying(mission):
    make.application(mission)
    make.application(mission)
    volunteer = make.volunteer()
    client = make.client_for(volunteer)
    text = unescape(client.get(apply_url(mission)).text)
    assert "vous rejoindrez sa liste d'attente" in text
    assert "Rejoindre la liste d'attente" in text
    response = client.post(apply_url(mission), {"message": ""})
    assert Application.objects.get(mission=mission, volunteer=volunteer).status == "waitlisted"
    assert "Vous êtes sur la liste d'attente" in unescape(client.get(response["Location"]).text)


def test_too_young_is_told_before_and_refused(org):
    mission = make.mission(org, minimum_age=18)
    young = make.volunteer(birth_date=years_ago(17))
    client = make.client_for(young)
    text = client.get(apply_url(mission)).text
    assert "Cette mission est ouverte dès 18 ans." in text and "<textarea" not in text
    response = client.post(apply_url(mission), {"message": "Bonjour"})
    assert response.status_code == 403
    assert not Application.objects.filter(mission=mission).exists()
    adult = make.volunteer(birth_date=years_ago(18))
    make.client_for(adult).post(apply_url(mission), {"message": ""})
    assert Application.objects.filter(mission=mission, volunteer=adult).exists()


def test_the_age_counts_on_the_missions_first_day(org):
    start = timezone.localdate() + datetime.timedelta(days=30)
    mission = make.mission(org, minimum_age=18, start_date=start)
    almost = make.volunteer(birth_date=years_ago(18, days=-10))  # 18 in ten days
    make.client_for(almost).post(apply_url(mission), {"message": ""})
    assert Application.objects.filter(mission=mission, volunteer=almost).exists()


def test_an_unconfirmed_address_gets_a_clear_message(mission):
    unconfirmed = make.user(first_name="Sam")
    client = make.client_for(unconfirmed)
    text = unescape(client.get(apply_url(mission)).text)
    assert "Confirmez d'abord votre adresse e-mail" in text
    response = client.post(apply_url(mission), {"message": ""})
    assert response.status_code == 403
    assert not Application.objects.filter(mission=mission).exists()


def test_the_application_page_answers_in_english(mission):
    client = make.client_for(make.volunteer())
    text = client.get(apply_url(mission, "en")).text
    assert "I offer my help" in text and "Send my offer of help" in text


def test_the_api_refuses_a_volunteer_under_the_minimum_age(org):
    mission = make.mission(org, minimum_age=18)
    client = make.client_for(make.volunteer(birth_date=years_ago(16)), enforce_csrf_checks=True)
    token = client.get("/api/v1/csrf").json()["csrfToken"]
    response = client.post(
        f"/api/v1/missions/{mission.pk}/applications",
        {"message": ""},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 403 and response.json()["error"] == "too_young"
    assert not Application.objects.filter(mission=mission).exists()


def test_the_form_needs_its_csrf_token(mission):
    client = make.client_for(make.volunteer(), enforce_csrf_checks=True)
    assert client.post(apply_url(mission), {"message": ""}).status_code == 403
    assert not Application.objects.filter(mission=mission).exists()


# --- Coming back after signing in or up (portal.redirects) ------------------------------------

OUTSIDE = ["https://evil.example/phish", "//evil.example/", "http://covid19.localhost/fr/"]


def test_password_sign_in_comes_back_to_the_application(client, mission):
    volunteer = make.volunteer(password="correct horse battery")
    page = client.get(f"/fr/compte/connexion/?next={apply_url(mission)}")
    assert f'<input type="hidden" name="next" value="{apply_url(mission)}">' in page.text
    response = client.post(
        "/fr/compte/connexion/",
        {
            "username": volunteer.email,
            "password": "correct horse battery",
            "next": apply_url(mission),
        },
    )
    assert response.status_code == 302 and response["Location"] == apply_url(mission)
    assert "<textarea" in client.get(response["Location"]).text


@pytest.mark.parametrize("outside", OUTSIDE)
def test_sign_in_ignores_a_next_outside_the_portal(client, outside):
    volunteer = make.volunteer(password="correct horse battery")
    page = client.get("/fr/compte/connexion/", {"next": outside})
    assert 'name="next"' not in page.text
    response = client.post(
        "/fr/compte/connexion/",
        {"username": volunteer.email, "password": "correct horse battery", "next": outside},
    )
    assert response.status_code == 302 and response["Location"] == "/fr/espace/"


def emailed_path(template: str, to: str) -> str:
    return OutboundEmail.objects.get(template=template, to_email=to).context["action_path"]


def test_an_emailed_sign_in_link_comes_back_to_the_application(client, mission):
    volunteer = make.volunteer()
    client.post(
        "/fr/compte/connexion/lien/", {"email": volunteer.email, "next": apply_url(mission)}
    )
    path = emailed_path("signin_link", volunteer.email)
    assert path.endswith(f"/?next=%2Ffr%2Fmissions%2F{mission.pk}%2Fcandidater%2F")
    assert client.get(path).status_code == 200  # the button; a mail scanner's GET does nothing
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == apply_url(mission)


@pytest.mark.parametrize("outside", OUTSIDE)
def test_an_emailed_link_never_leads_outside(client, outside):
    volunteer = make.volunteer()
    client.post("/fr/compte/connexion/lien/", {"email": volunteer.email, "next": outside})
    path = emailed_path("signin_link", volunteer.email)
    assert "next" not in path
    tampered = client.post(f"{path}?next={outside}")  # edited by hand: still ignored
    assert tampered.status_code == 302 and tampered["Location"] == "/fr/espace/"


def test_signing_up_from_a_mission_leads_back_to_it_once_confirmed(client, mission):
    page = client.get(f"/fr/inscription/?next={apply_url(mission)}")
    assert page["Cache-Control"].startswith("public") and not page.cookies
    assert f'<input type="hidden" name="next" value="{apply_url(mission)}">' in page.text
    response = client.post(
        "/api/v1/signup",
        {
            "email": "nouvelle@example.com",
            "first_name": "Nour",
            "last_name": "Benali",
            "postal_code": "75011",
            "birth_date": "1995-04-02",
            "consent": True,
            "language": "fr",
            "next": apply_url(mission),  # signup.js posts every field of the form
        },
        content_type="application/json",
    )
    assert response.status_code == 202
    path = emailed_path("account_confirmation", "nouvelle@example.com")
    assert path.startswith("/fr/compte/confirmer/") and "next=%2Ffr%2Fmissions" in path
    confirmed = client.post(path)
    assert confirmed.status_code == 302 and confirmed["Location"] == apply_url(mission)
    assert User.objects.get(email="nouvelle@example.com").email_confirmed_at is not None
    client.post(apply_url(mission), {"message": "Me voilà"})
    assert Application.objects.get(mission=mission).volunteer.email == "nouvelle@example.com"


def test_signing_up_with_an_outside_next_drops_it(client):
    page = client.get("/fr/inscription/", {"next": OUTSIDE[0]})
    assert 'name="next"' not in page.text
    client.post(
        "/api/v1/signup",
        {
            "email": "autre@example.com",
            "first_name": "A",
            "last_name": "B",
            "postal_code": "75011",
            "birth_date": "1995-04-02",
            "consent": True,
            "next": OUTSIDE[0],
        },
        content_type="application/json",
    )
    assert "next" not in emailed_path("account_confirmation", "autre@example.com")
