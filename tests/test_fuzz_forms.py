"""hypothesis against the public inputs: the signup JSON, the search parameters and every
public form. Whatever is sent, the answer is never a 5xx (a clear 4xx or the form again)."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from search.missions import SearchForm
from tests.factories import client_for

pytestmark = pytest.mark.django_db
FUZZ = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)

# Text as browsers and scripts send it: any Unicode, NUL and control characters included.
text = st.text(st.characters(codec="utf-8"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
SIGNUP_FIELDS = [
    "email",
    "first_name",
    "last_name",
    "postal_code",
    "birth_date",
    "phone",
    "consent",
    "language",
]
SEARCH_FIELDS = list(SearchForm.base_fields)  # every parameter the search pages read


@pytest.fixture
def client():
    """One client per test (a new one loads the middleware again, ~1 s with whitenoise)."""
    return client_for(raise_request_exception=False)  # a 500 is an answer to assert on, here


@FUZZ
@given(body=st.dictionaries(st.sampled_from(SIGNUP_FIELDS) | text, json_values, max_size=9))
def test_signup_api_never_answers_5xx(demo, client, body):
    response = client.post("/api/v1/signup", json.dumps(body), content_type="application/json")
    assert response.status_code < 500, (body, response.status_code)
    assert response["Content-Type"].startswith("application/json")


@FUZZ
@given(raw=st.binary(max_size=200))
def test_signup_api_survives_any_body(demo, client, raw):
    response = client.post("/api/v1/signup", raw, content_type="application/json")
    assert response.status_code < 500, (raw, response.status_code)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(SEARCH_FIELDS), text, max_size=6))
def test_mission_search_never_answers_5xx(demo, client, params):
    for path in ("/fr/missions/", "/api/v1/missions"):
        response = client.get(path, params)
        assert response.status_code < 500, (path, params, response.status_code)


@FUZZ
@given(query=text, page=text)
def test_site_search_never_answers_5xx(demo, client, query, page):
    response = client.get("/fr/search/", {"query": query, "page": page})
    assert response.status_code < 500, (query, page, response.status_code)


PUBLIC_FORMS = {
    "/fr/inscription/": SIGNUP_FIELDS,
    "/fr/compte/connexion/": ["username", "password"],
    "/fr/compte/connexion/lien/": ["email"],
}


@FUZZ
@given(
    path=st.sampled_from(sorted(PUBLIC_FORMS)),
    values=st.lists(text, min_size=8, max_size=8),
)
def test_public_forms_never_answer_5xx(demo, client, path, values):
    data = dict(zip(PUBLIC_FORMS[path], values, strict=False))
    response = client.post(path, data)
    assert response.status_code < 500, (path, data, response.status_code)
