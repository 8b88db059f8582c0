"""Signup with JavaScript off: the cached page's form posts with no CSRF token, and the
browser's Origin (or Sec-Fetch-Site) header proves it came from the portal's own page
(portal/csrf.py). Every request here is checked for CSRF as a browser's would be."""

import pytest
from django.utils.translation import gettext, override

from accounts.models import User
from emails.models import OutboundEmail
from tenants.models import PortalSettings
from tests.factories import client_for

pytestmark = pytest.mark.django_db
URL = "/fr/inscription/"
OWN = "http://localhost"  # the test client's requests: http, Host localhost
FORM = {
    "email": "Camille.Martin@Example.com",
    "first_name": "Camille",
    "last_name": "Martin",
    "postal_code": "69007",
    "birth_date": "1990-05-01",
    "consent": "on",
}


def french(text: str) -> str:
    with override("fr"):
        return gettext(text)


def browser():
    """A browser that has only opened the cached page: no cookie at all."""
    return client_for(enforce_csrf_checks=True)


def submit(client, data=FORM, **headers):
    """The form as a browser posts it without JavaScript: form-encoded, no token."""
    assert not client.cookies
    return client.post(URL, data, **headers)


def assert_nothing_created(response):
    assert response.status_code == 403
    assert not User.objects.exists() and not OutboundEmail.objects.exists()
    assert "no-store" in response["Cache-Control"]


def test_the_cached_page_holds_no_token_and_sets_no_cookie(demo):
    client = browser()
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in response.headers and not client.cookies
    assert "csrfmiddlewaretoken" not in response.text
    assert "{#" not in response.text  # a template comment that spans lines is printed
    assert 'id="signup-form" method="post" action=""' in response.text


def test_a_same_origin_post_without_token_signs_up_and_queues_the_email(demo):
    client = browser()
    response = submit(client, HTTP_ORIGIN=OWN)
    assert response.status_code == 202
    assert french("Check your inbox") in response.text
    user = User.objects.get(email="camille.martin@example.com")
    assert user.email_confirmed_at is None and user.signup_site == demo["localhost"]
    email = OutboundEmail.objects.get(to_email=user.email)
    assert (email.template, email.language) == ("account_confirmation", "fr")
    assert not response.cookies  # still no CSRF cookie, no session


def test_without_origin_sec_fetch_site_same_origin_is_enough(demo):
    response = submit(browser(), HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 202
    assert User.objects.filter(email="camille.martin@example.com").exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "http://covid19.localhost"},  # another portal is another origin
        {"HTTP_ORIGIN": "https://localhost"},  # another scheme too
        {"HTTP_ORIGIN": "null"},
        {},  # neither header: not provably a page of ours
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_SEC_FETCH_SITE": "none"},
        {"HTTP_ORIGIN": OWN, "HTTP_SEC_FETCH_SITE": "cross-site"},
    ],
    ids=lambda headers: " ".join(f"{k[5:]}={v}" for k, v in headers.items()) or "no headers",
)
def test_anything_but_same_origin_is_refused_and_creates_nothing(demo, headers):
    response = submit(browser(), **headers)
    assert_nothing_created(response)
    assert french("This form could not be sent") in response.text


def test_a_post_with_a_valid_token_still_works_from_anywhere_the_token_allows(demo):
    client = browser()
    token = client.get("/api/v1/csrf").json()["csrfToken"]
    response = client.post(URL, {**FORM, "csrfmiddlewaretoken": token})
    assert response.status_code == 202
    # A token does not make a cross-origin post acceptable: Django checks Origin first.
    cross = client.post(
        URL, {**FORM, "csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.example"
    )
    assert cross.status_code == 403


def test_field_errors_come_back_on_the_page(demo):
    response = submit(browser(), {**FORM, "postal_code": "1"}, HTTP_ORIGIN=OWN)
    assert response.status_code == 400
    assert 'id="id_postal_code_error"' in response.text
    assert not User.objects.exists()


def test_under_https_only_https_requests_pass_without_a_token(demo, settings):
    settings.PORTAL_PUBLIC_SCHEME = "https"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain http, even with a matching Origin: a network attacker could have written it.
    assert_nothing_created(submit(browser(), HTTP_ORIGIN=OWN))
    assert_nothing_created(submit(browser(), HTTP_ORIGIN="https://localhost"))
    # Behind the TLS proxy, which says so.
    response = submit(browser(), HTTP_ORIGIN="https://localhost", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 202


def test_rate_limits_hold(demo, settings):
    settings.SIGNUP_RATE_PER_IP = "1/m"
    assert submit(browser(), HTTP_ORIGIN=OWN).status_code == 202
    again = submit(browser(), {**FORM, "email": "other@example.com"}, HTTP_ORIGIN=OWN)
    assert again.status_code == 429 and int(again["Retry-After"]) > 0
    assert not User.objects.filter(email="other@example.com").exists()


def test_closed_signups_stay_closed(demo):
    row = PortalSettings.for_site(demo["localhost"])
    row.signups_open = False
    row.save()
    response = submit(browser(), HTTP_ORIGIN=OWN)
    assert response.status_code == 503
    assert not User.objects.exists()
