"""Bad input found by the security review: each is a clear 4xx, never a 500."""

import base64
import json

import pytest

from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return client_for(raise_request_exception=False)


@pytest.mark.parametrize("birth_date", [19900101, True, 1.5])
def test_a_birth_date_that_is_not_text_is_a_field_error(client, demo, birth_date):
    body = json.dumps(make.signup_data(consent=True, birth_date=birth_date))
    response = client.post("/api/v1/signup", body, content_type="application/json")
    assert response.status_code == 400
    assert "birth_date" in response.json()["fields"]


def test_a_postal_code_sent_as_a_number_is_accepted_as_its_text(client, demo):
    body = json.dumps(make.signup_data(consent=True, postal_code=75011, birth_date="1990-01-02"))
    response = client.post("/api/v1/signup", body, content_type="application/json")
    assert response.status_code == 202


def test_deeply_nested_json_is_a_400(client, demo):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/signup", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


@pytest.mark.parametrize(
    "path",
    [
        "/fr/missions/?q=a%00b",
        "/fr/missions/?domain=a%00b",
        "/fr/missions/?activity=%00",
        "/api/v1/missions?q=a%00b",
        "/api/v1/missions?domain=%00",
        "/fr/search/?query=a%00b",
    ],
)
def test_a_nul_byte_in_search_parameters_is_a_400(client, demo, path):
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json()["error"] == "invalid"


@pytest.mark.parametrize("credentials", ["bré:sécret", "\u00ff\u00fe:x"])
def test_non_ascii_basic_auth_on_the_brevo_webhook_is_a_401(client, credentials):
    token = base64.b64encode(credentials.encode()).decode()
    response = client.post(
        "/anymail/brevo/tracking/",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )
    assert response.status_code == 401


def test_garbage_basic_auth_on_the_brevo_webhook_is_a_401(client):
    response = client.post(
        "/anymail/brevo/tracking/",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic %%%not-base64",
    )
    assert response.status_code == 401


def test_every_portal_says_where_to_report_a_vulnerability(client, demo, settings):
    settings.SECURITY_CONTACT = "mailto:securite@example.org"
    for host in ("localhost", "covid19.localhost"):
        response = client.get("/.well-known/security.txt", HTTP_HOST=host)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Contact: mailto:securite@example.org" in body and "Expires: " in body
        assert f"Canonical: http://{host}" in body


def test_without_a_configured_contact_each_portal_names_its_own_domain(client, demo, settings):
    settings.SECURITY_CONTACT = ""
    body = client.get("/.well-known/security.txt", HTTP_HOST="covid19.localhost").content
    assert b"Contact: mailto:securite@covid19.localhost" in body


def test_the_search_page_says_in_french_why_it_refuses_a_nul_byte(client, demo):
    response = client.get("/fr/search/?query=a%00b")
    assert response.status_code == 400
    assert "Cette recherche contient des caractères" in response.content.decode()
