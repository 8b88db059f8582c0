"""Volunteer signup: the spike path, its answers, its limits and its links."""

import datetime
import json
import logging
import threading

import pytest
import requests
from django.core import signing
from django.core.cache import caches
from django.urls import clear_url_caches
from django.utils import translation

from accounts.models import User
from accounts.services import signup
from accounts.tokens import SALT, make_token, read_token
from emails.models import OutboundEmail
from tenants.models import PortalSettings
from tests.factories import client_for

pytestmark = pytest.mark.django_db
API = "/api/v1/signup"
VALID = {
    "email": "Camille.Martin@Example.com",
    "first_name": "Camille",
    "last_name": "Martin",
    "postal_code": "69007",
    "birth_date": "1990-05-01",
    "consent": True,
}


def post(client, payload, **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(API, body, content_type="application/json", **extra)


def test_signup_creates_an_unconfirmed_account_without_hashing_and_queues_the_link(client, demo):
    response = post(client, {**VALID, "language": "en"}, HTTP_HOST="covid19.localhost")
    assert response.status_code == 202
    user = User.objects.get()
    assert user.email == "camille.martin@example.com"
    assert user.email_confirmed_at is None and not user.has_usable_password()
    assert user.signup_site == demo["covid19.localhost"] and user.consent_at
    email = OutboundEmail.objects.get()
    assert (email.template, email.language, email.to_email) == (
        "account_confirmation",
        "en",
        "camille.martin@example.com",
    )
    assert email.context["action_path"].startswith("/en/compte/confirmer/")
    assert email.site == demo["covid19.localhost"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"postal_code": "6900"}, "postal_code"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"birth_date": "2099-01-01"}, "birth_date"),
        ({"birth_date": "2020-01-01"}, "birth_date"),  # too young
        ({"birth_date": "yesterday"}, "birth_date"),
        ({"consent": False}, "consent"),
        ({"first_name": ""}, "first_name"),
        ({"phone": "call me maybe"}, "phone"),
        ({"email": ["a@b.fr"]}, "email"),
    ],
)
def test_invalid_fields_are_named_in_a_400(client, demo, change, field):
    response = post(client, {**VALID, **change})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid" and field in body["fields"]
    assert not User.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', b"\xff\xfe", ""])
def test_malformed_bodies_get_a_json_400(client, demo, body):
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"


def test_existing_address_gets_the_same_answer_and_a_signin_email(client, demo):
    first = post(client, VALID)
    again = post(client, {**VALID, "email": "CAMILLE.martin@example.com", "first_name": "X"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert User.objects.count() == 1
    templates = list(OutboundEmail.objects.order_by("pk").values_list("template", flat=True))
    assert templates == ["account_confirmation", "account_exists"]
    # A burst of retries sends one "you already have an account" email, not one per try.
    post(client, VALID)
    assert OutboundEmail.objects.filter(template="account_exists").count() == 1


def test_closed_signups_answer_503_with_a_reason_and_the_page_says_so(client, demo):
    settings_row = PortalSettings.for_site(demo["localhost"])
    settings_row.signups_open = False
    settings_row.save()
    response = post(client, VALID)
    assert response.status_code == 503
    assert response.json()["error"] == "signups_closed"
    assert not User.objects.exists()
    page = client.get("/fr/inscription/")
    assert "Signups are closed" in page.text or "inscriptions" in page.text.lower()
    # The other portal is unaffected.
    assert post(client, VALID, HTTP_HOST="covid19.localhost").status_code == 202


def test_rate_limit_per_ip_answers_429_with_retry_after(client, demo, settings):
    settings.SIGNUP_RATE_PER_IP = "3/m"
    codes = [post(client, {**VALID, "email": f"v{i}@example.com"}).status_code for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    limited = post(client, {**VALID, "email": "v9@example.com"})
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["error"] == "rate_limited"


def test_forged_forwarded_for_does_not_escape_the_ip_limit(client, demo, settings):
    settings.SIGNUP_RATE_PER_IP = "2/m"
    settings.TRUSTED_PROXY_COUNT = 1
    clear_url_caches()
    codes = []
    for i in range(4):
        codes.append(
            post(
                client_for(),
                {**VALID, "email": f"f{i}@example.com"},
                HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 198.51.100.7",  # forged, then nginx's entry
                REMOTE_ADDR="172.18.0.2",
            ).status_code
        )
    assert codes == [202, 202, 429, 429]


def test_rate_limit_per_email(client, demo, settings):
    settings.SIGNUP_RATE_PER_EMAIL = "2/h"
    codes = [post(client, VALID, REMOTE_ADDR=f"203.0.113.{i}").status_code for i in range(3)]
    assert codes == [202, 202, 429]


def test_limiter_fails_open_when_redis_is_down(client, demo, settings, caplog):
    dead = dict(settings.CACHES["ratelimit"], LOCATION="redis://127.0.0.1:1/0")
    settings.CACHES = {**settings.CACHES, "ratelimit": dead}
    try:
        del caches["ratelimit"]
    except (AttributeError, KeyError):
        pass
    settings.SIGNUP_RATE_PER_IP = "1/m"
    with caplog.at_level(logging.WARNING):
        codes = [post(client, {**VALID, "email": f"o{i}@example.com"}).status_code for i in (1, 2)]
    try:
        del caches["ratelimit"]
    except (AttributeError, KeyError):
        pass
    assert codes == [202, 202]
    assert "failing open" in caplog.text


def test_csrf_stays_on_for_the_post(demo):
    client = client_for(enforce_csrf_checks=True)
    assert post(client, VALID).status_code == 403
    token = client.get("/api/v1/csrf").json()["csrfToken"]
    assert post(client, VALID, HTTP_X_CSRFTOKEN=token).status_code == 202


def test_signup_page_is_cacheable_by_a_cdn(client, demo):
    response = client.get("/fr/inscription/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert "s-maxage=" in response["Cache-Control"]
    assert "stale-while-revalidate=" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "csrfmiddlewaretoken" not in response.text  # the script fetches a token


def test_html_form_post_without_javascript_fetch_works_with_a_token(demo):
    client = client_for(enforce_csrf_checks=True)
    token = client.get("/api/v1/csrf").json()["csrfToken"]
    data = {**VALID, "consent": "on", "csrfmiddlewaretoken": token}
    response = client.post("/fr/inscription/", data)
    assert response.status_code == 202
    assert User.objects.filter(email="camille.martin@example.com").exists()
    bad = client.post("/fr/inscription/", {**data, "postal_code": "1"})
    assert bad.status_code == 400 and "postal" in bad.text.lower()


# --- Links ----------------------------------------------------------------------------------


def new_user(demo):
    return signup(
        site=demo["localhost"],
        language="fr",
        data={**VALID, "email": "link@example.com", "birth_date": "1990-05-01"},
    ).user


def test_confirmation_link_confirms_signs_in_and_works_once(client, demo):
    user = new_user(demo)
    url = f"/fr/compte/confirmer/{make_token(user, 'confirm', demo['localhost'])}/"
    page = client.get(url)
    assert page.status_code == 200
    user.refresh_from_db()
    assert user.email_confirmed_at is None  # a mail scanner's GET changes nothing
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith("/espace/")
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert client.get("/fr/espace/").status_code == 200
    again = client_for().post(url)
    assert again.status_code == 400


def test_forged_expired_or_misused_tokens_are_refused(demo, settings):
    user = new_user(demo)
    site = demo["localhost"]
    token = make_token(user, "confirm", site)
    assert read_token(token, "confirm", 60, site) == user
    assert read_token(token, "login", 60, site) is None  # wrong purpose
    assert read_token(token, "confirm", 60, demo["covid19.localhost"]) is None  # wrong portal
    assert read_token(token[:-2] + "xx", "confirm", 60, site) is None
    forged = signing.dumps({"u": user.pk, "p": "confirm", "t": site.pk, "s": "0"}, salt=SALT)
    assert read_token(forged, "confirm", 60, site) is None
    assert read_token(token, "confirm", -1, site) is None  # expired


def test_magic_link_request_answers_the_same_for_unknown_addresses(client, demo):
    user = new_user(demo)
    known = client.post("/fr/compte/connexion/lien/", {"email": user.email})
    unknown = client.post("/fr/compte/connexion/lien/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert OutboundEmail.objects.filter(template="signin_link", to_email=user.email).count() == 1
    assert not OutboundEmail.objects.filter(to_email="nobody@example.com").exists()


def test_magic_link_signs_in(client, demo):
    user = new_user(demo)
    url = f"/fr/compte/lien/{make_token(user, 'login', demo['localhost'])}/"
    assert client.post(url).status_code == 302
    assert client.get("/fr/espace/").status_code == 200
    assert client_for().post(url).status_code == 400  # used


# --- Concurrency against a live server --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_signups_with_one_address_make_one_account(live_server, demo, settings):
    settings.SIGNUP_RATE_PER_IP = settings.SIGNUP_RATE_PER_EMAIL = "1000/m"
    barrier = threading.Barrier(50)
    results = []

    def attempt(i):
        session = requests.Session()
        token = session.get(f"{live_server.url}/api/v1/csrf", timeout=30).json()["csrfToken"]
        barrier.wait(timeout=30)
        response = session.post(
            f"{live_server.url}{API}",
            json={
                **VALID,
                "email": "Same.Person@example.com" if i % 2 else "same.person@EXAMPLE.com",
            },
            headers={"X-CSRFToken": token, "Referer": live_server.url},
            timeout=60,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert sorted(set(results)) == [202] and len(results) == 50
    assert User.objects.filter(email="same.person@example.com").count() == 1
    assert OutboundEmail.objects.filter(template="account_confirmation").count() == 1


@pytest.mark.parametrize(
    "language, text", [("fr", "Saisissez un code postal"), ("en", "Enter a 5-digit")]
)
def test_field_errors_speak_the_pages_language(client, demo, language, text):
    response = post(client, {**VALID, "postal_code": "1", "language": language})
    assert text in response.json()["fields"]["postal_code"][0]


def test_the_api_form_shares_its_fields_and_nothing_leaks_between_requests():
    """SignupForm.from_json's instances share the class's fields (no deep copy per request):
    one request's errors or data never reach the next one's."""
    from accounts.forms import SignupForm  # noqa: PLC0415

    bad = SignupForm.from_json({**VALID, "email": "not-an-address", "birth_date": "tomorrow"})
    good = SignupForm.from_json(VALID)
    assert bad.fields is good.fields  # shared
    assert not bad.is_valid() and set(bad.errors) == {"email", "birth_date"}
    assert good.is_valid(), good.errors
    assert good.cleaned_data["email"] == "camille.martin@example.com"
    assert SignupForm.from_json(VALID).is_valid()
    assert SignupForm().fields is not SignupForm().fields  # the page's form copies them


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("1990-05-01", datetime.date(1990, 5, 1)),  # a date input, JSON
        (" 1990-05-01 ", datetime.date(1990, 5, 1)),
        ("01/05/1990", datetime.date(1990, 5, 1)),  # typed in French, without the date input
        ("1990-02-30", None),
        ("1990-W01-1", None),
    ],
)
def test_birth_dates_are_read_iso_first_then_in_the_language(sent, read):
    from accounts.forms import SignupForm  # noqa: PLC0415

    with translation.override("fr"):
        form = SignupForm.from_json({**VALID, "birth_date": sent})
        valid = form.is_valid()
    if read is None:
        assert not valid and "birth_date" in form.errors
    else:
        assert valid, form.errors
        assert form.cleaned_data["birth_date"] == read
