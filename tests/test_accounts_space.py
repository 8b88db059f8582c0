"""The volunteer space: profile, email, password, sessions, deletion, export, purge."""

import datetime
import json

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.cache import caches
from django.utils import timezone

from accounts.models import User
from accounts.services import purge_unconfirmed, signup
from accounts.tokens import make_token
from emails.models import OutboundEmail
from portal.settings import base
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def volunteer(demo):
    data = {
        "email": "lea@example.com",
        "first_name": "Léa",
        "last_name": "Durand",
        "postal_code": "75011",
        "birth_date": datetime.date(1995, 3, 2),
    }
    user = signup(site=demo["localhost"], language="fr", data=data).user
    user.email_confirmed_at = timezone.now()
    user.save()
    return user


@pytest.fixture
def signed_in(volunteer):
    return client_for(volunteer)


def test_space_requires_sign_in_and_is_private(client, signed_in):
    anonymous = client.get("/fr/espace/")
    assert anonymous.status_code == 302 and "/compte/connexion/" in anonymous["Location"]
    response = signed_in.get("/fr/espace/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_profile_edit(signed_in, volunteer):
    response = signed_in.post(
        "/fr/espace/",
        {
            "first_name": "Léa",
            "last_name": "Durand",
            "postal_code": "13001",
            "phone": "",
            "availability": ["weekends", "remote"],
            "interests": ["food_aid"],
        },
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.postal_code == "13001"
    assert volunteer.availability == ["weekends", "remote"]
    assert volunteer.interests == ["food_aid"]
    bad = signed_in.post("/fr/espace/", {"first_name": "L", "postal_code": "13"})
    assert bad.status_code == 200 and "postal" in bad.text.lower()
    volunteer.refresh_from_db()
    assert volunteer.postal_code == "13001"  # nothing saved is lost


def test_change_email_waits_for_the_new_address_to_confirm(signed_in, volunteer):
    signed_in.post("/fr/espace/email/", {"email": "Lea.New@example.com"})
    volunteer.refresh_from_db()
    assert volunteer.email == "lea@example.com" and volunteer.pending_email == "lea.new@example.com"
    email = OutboundEmail.objects.get(template="email_change")
    assert email.to_email == "lea.new@example.com"
    url = email.context["action_path"]
    assert client_for().post(url).status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.email == "lea.new@example.com" and volunteer.pending_email == ""
    assert client_for().post(url).status_code == 400  # single use


def test_email_change_to_a_taken_address_is_refused_at_confirmation(signed_in, volunteer, demo):
    make.user("taken@example.com")
    signed_in.post("/fr/espace/email/", {"email": "taken@example.com"})
    volunteer.refresh_from_db()
    url = f"/fr/compte/email/{make_token(volunteer, 'change-email', demo['localhost'])}/"
    assert client_for().post(url).status_code == 409
    volunteer.refresh_from_db()
    assert volunteer.email == "lea@example.com"


def test_setting_a_password_uses_argon2_and_allows_password_sign_in(signed_in, volunteer, settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS  # tests use MD5 elsewhere, for speed
    response = signed_in.post(
        "/fr/espace/mot-de-passe/",
        {
            "new_password1": "un-mot-de-passe-solide-2026",
            "new_password2": "un-mot-de-passe-solide-2026",
        },
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert identify_hasher(volunteer.password).algorithm == "argon2"
    assert signed_in.get("/fr/espace/").status_code == 200  # this session survives
    other = client_for()
    login = other.post(
        "/fr/compte/connexion/",
        {"username": "LEA@example.com", "password": "un-mot-de-passe-solide-2026"},
    )
    assert login.status_code == 302
    assert other.get("/fr/espace/").status_code == 200


def test_sign_out_everywhere_ends_every_session(volunteer):
    phone, laptop = client_for(), client_for()
    for client in (phone, laptop):
        client.force_login(volunteer)
        assert client.get("/fr/espace/").status_code == 200
    phone.post("/fr/espace/sessions/")
    assert phone.get("/fr/espace/").status_code == 302
    assert laptop.get("/fr/espace/").status_code == 302


def test_sessions_live_in_redis(signed_in, settings):
    key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    assert settings.SESSION_ENGINE == "portal.sessions"  # the cache store, Redis errors kept
    assert "RedisCache" in settings.CACHES["sessions"]["BACKEND"]
    assert not settings.CACHES["sessions"]["OPTIONS"]["IGNORE_EXCEPTIONS"]
    assert caches["sessions"].get(f"django.contrib.sessions.cache{key}") is not None


def test_export_my_data(signed_in, volunteer):
    response = signed_in.get("/fr/espace/export/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "lea@example.com"
    assert data["account"]["postal_code"] == "75011"
    assert data["account"]["signed_up_on"] == "localhost"
    assert [e["template"] for e in data["emails_sent_to_you"]] == ["account_confirmation"]


def test_delete_my_account_erases_personal_data(signed_in, volunteer):
    assert signed_in.post("/fr/espace/supprimer/", {"confirm": "no"}).status_code == 400
    response = signed_in.post("/fr/espace/supprimer/", {"confirm": "DELETE"})
    assert response.status_code == 200
    volunteer.refresh_from_db()
    assert volunteer.email.endswith("@deleted.invalid")
    assert (volunteer.first_name, volunteer.last_name, volunteer.postal_code) == ("", "", "")
    assert volunteer.birth_date is None and not volunteer.is_active
    assert not OutboundEmail.objects.filter(to_email="lea@example.com").exists()
    assert all(e.context == {} for e in OutboundEmail.objects.all())
    assert signed_in.get("/fr/espace/").status_code == 302
    # The address is free again.
    assert User.objects.filter(email="lea@example.com").count() == 0


def test_unconfirmed_accounts_are_purged_after_the_delay(demo, settings):
    settings.ACCOUNT_UNCONFIRMED_PURGE_DAYS = 7
    base = {"first_name": "A", "last_name": "B", "postal_code": "69001"}
    data = {**base, "birth_date": datetime.date(1990, 1, 1)}
    old = signup(site=demo["localhost"], language="fr", data={**data, "email": "old@x.fr"}).user
    recent = signup(site=demo["localhost"], language="fr", data={**data, "email": "new@x.fr"}).user
    confirmed = signup(
        site=demo["localhost"], language="fr", data={**data, "email": "ok@x.fr"}
    ).user
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    User.objects.filter(pk__in=[old.pk, confirmed.pk]).update(date_joined=eight_days_ago)
    User.objects.filter(pk=confirmed.pk).update(email_confirmed_at=eight_days_ago)
    assert purge_unconfirmed() == 1
    assert set(
        User.objects.filter(pk__in=[old.pk, recent.pk, confirmed.pk]).values_list(
            "email", flat=True
        )
    ) == {"new@x.fr", "ok@x.fr"}
