"""Every form is drawn by the design system (portal/forms.py): controls DSFR can see, an error
shown only on the field that has one and named by that field, browsers told what to fill in."""

import pytest
from bs4 import BeautifulSoup

from tests import factories as make
from tests.factories import client_for
from tests.test_security_dashboard import mission_data

pytestmark = pytest.mark.django_db
GROUPS = {"checkbox": "fr-checkbox-group", "radio": "fr-radio-group"}


def main_of(response):
    return BeautifulSoup(response.content, "html.parser").find("main")


def controls(main):
    return [
        element
        for element in main.find_all(["input", "select", "textarea"])
        if element.get("type") not in ("hidden", "submit", "button")
    ]


def hidden(element) -> bool:
    """Hidden by its own `hidden` attribute or an ancestor's (DSFR's alerts respect it)."""
    return element.has_attr("hidden") or any(p.has_attr("hidden") for p in element.parents)


def assert_drawn_by_dsfr(response, url):
    """Every visible control carries its DSFR class (or sits in its DSFR group) and has a
    label; no error is shown on a page that was just opened."""
    assert response.status_code == 200, url
    main = main_of(response)
    found = controls(main)
    assert found, url
    for element in found:
        kind = element.get("type", "text")
        if element.name == "select":
            assert "fr-select" in element["class"], (url, element)
        elif kind in GROUPS:
            assert GROUPS[kind] in element.parent["class"], (url, element)
        else:
            assert "fr-input" in element.get("class", []), (url, element)
        assert main.find("label", attrs={"for": element["id"]}), (url, element)
    assert not main.select(".fr-error-text"), url
    errors = [e for e in main.find_all(class_=True) if any("--error" in c for c in e["class"])]
    assert all(hidden(e) for e in errors), errors  # signup.js's alert waits, hidden
    assert not main.select("[aria-invalid]"), url
    return main


def assert_error_only_on(response, name, status=400):
    """One field in error: its group says so, its error text is named by the control."""
    assert response.status_code == status
    main = main_of(response)
    in_error = [
        group["data-field"]
        for group in main.select("[data-field]")
        if any(c.endswith("--error") for c in group["class"])
    ]
    assert in_error == [name]
    [error] = main.select(".fr-error-text")
    assert error.get_text(strip=True)
    control = main.find(attrs={"name": name})
    assert control["aria-invalid"] == "true"
    assert control["aria-describedby"] == error["id"]
    for other in controls(main):
        if other.get("name") != name:
            assert not other.has_attr("aria-invalid"), other
    return main


def autocomplete_of(main):
    return {e["name"]: e.get("autocomplete") for e in controls(main)}


@pytest.fixture
def volunteer(demo):
    return make.volunteer("vol@example.com", password="an old password 42", first_name="Vol")


@pytest.fixture
def team(demo):
    organisation = make.organisation(demo["localhost"])
    manager = make.manager(organisation)
    return organisation, manager, make.mission(organisation)


# --- Public pages ---------------------------------------------------------------------------


AUTOCOMPLETE = {
    "/fr/inscription/": {
        "email": "email",
        "first_name": "given-name",
        "last_name": "family-name",
        "postal_code": "postal-code",
        "birth_date": "bday",
        "phone": "tel",
        "consent": None,
    },
    "/fr/compte/connexion/": {
        "email": "email",
        "username": "username",
        "password": "current-password",
    },
}


@pytest.mark.parametrize("url", AUTOCOMPLETE)
def test_public_forms_are_drawn_with_autocomplete(client, demo, url):
    """Both forms of the sign-in page, the signup form: visible, and fillable by browsers."""
    main = assert_drawn_by_dsfr(client.get(url), url)
    assert autocomplete_of(main) == AUTOCOMPLETE[url]


def test_signup_page_marks_required_fields(client, demo):
    main = main_of(client.get("/fr/inscription/"))
    assert main.find(attrs={"name": "phone"})["type"] == "tel"
    for element in controls(main):
        label = main.find("label", attrs={"for": element["id"]})
        required = element["name"] != "phone"
        assert element.has_attr("required") is required, element
        assert bool(label.select(".fr-required-marker")) is required, label


def test_signup_error_shows_on_its_field_only(client, demo):
    response = client.post("/fr/inscription/", make.signup_data(postal_code="1"))
    main = assert_error_only_on(response, "postal_code")
    assert main.find(attrs={"name": "first_name"})["value"] == "Camille"  # the rest is kept


def test_signup_consent_error_is_drawn_in_the_checkbox_group(client, demo):
    response = client.post("/fr/inscription/", make.signup_data(consent=""))
    main = assert_error_only_on(response, "consent")
    group = main.find(attrs={"data-field": "consent"})
    assert "fr-checkbox-group--error" in group["class"]


def test_sign_in_link_error_shows_on_the_address(client, demo):
    response = client.post("/fr/compte/connexion/lien/", {"email": "not an address"})
    assert_error_only_on(response, "email")


def test_wrong_password_is_the_forms_error_not_a_fields(client, volunteer):
    response = client.post(
        "/fr/compte/connexion/", {"username": volunteer.email, "password": "wrong"}
    )
    assert response.status_code == 200
    main = main_of(response)
    assert main.select(".fr-alert--error")
    assert not main.select(".fr-error-text") and not main.select("[aria-invalid]")


def test_missing_password_shows_on_the_password(client, volunteer):
    response = client.post("/fr/compte/connexion/", {"username": volunteer.email})
    assert_error_only_on(response, "password", status=200)


# --- Volunteer space ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/fr/espace/", "/fr/espace/email/", "/fr/espace/mot-de-passe/", "/fr/espace/supprimer/"]
)
def test_volunteer_space_forms_are_drawn_by_dsfr(volunteer, url):
    assert_drawn_by_dsfr(client_for(volunteer).get(url), url)


def test_profile_fields_say_what_to_fill_in(volunteer):
    main = main_of(client_for(volunteer).get("/fr/espace/"))
    filled = autocomplete_of(main)
    assert (
        filled["first_name"],
        filled["last_name"],
        filled["postal_code"],
        filled["phone"],
    ) == ("given-name", "family-name", "postal-code", "tel")
    assert main.select("fieldset.fr-fieldset .fr-checkbox-group input[name=availability]")


def test_password_fields_say_which_password(volunteer):
    main = main_of(client_for(volunteer).get("/fr/espace/mot-de-passe/"))
    assert autocomplete_of(main) == {
        "old_password": "current-password",
        "new_password1": "new-password",
        "new_password2": "new-password",
    }


@pytest.mark.parametrize(
    "url, data, name",
    [
        ("/fr/espace/", {"first_name": "Vol", "postal_code": "1"}, "postal_code"),
        ("/fr/espace/email/", {"email": "nope"}, "email"),
        ("/fr/espace/supprimer/", {"confirm": "delete"}, "confirm"),
        (
            "/fr/espace/mot-de-passe/",
            {
                "old_password": "wrong",
                "new_password1": "N3w pass!42",
                "new_password2": "N3w pass!42",
            },
            "old_password",
        ),
    ],
)
def test_volunteer_space_errors_show_on_their_field(volunteer, url, data, name):
    status = 400 if url.endswith("supprimer/") else 200
    assert_error_only_on(client_for(volunteer).post(url, data), name, status=status)


def test_delete_still_needs_delete_typed(volunteer):
    client = client_for(volunteer)
    assert client.post("/fr/espace/supprimer/", {}).status_code == 400
    volunteer.refresh_from_db()
    assert volunteer.is_active
    assert client.post("/fr/espace/supprimer/", {"confirm": "DELETE"}).status_code == 200
    volunteer.refresh_from_db()
    assert not volunteer.is_active


# --- Association dashboard ------------------------------------------------------------------


def dashboard_urls(organisation, mission):
    base = f"/fr/espace-association/{organisation.pk}"
    return [
        "/fr/espace-association/",
        f"{base}/equipe/",
        f"{base}/missions/nouvelle/",
        f"{base}/missions/{mission.pk}/",
        f"{base}/missions/{mission.pk}/candidatures/",
    ]


def test_dashboard_forms_are_drawn_by_dsfr(team):
    organisation, manager, mission = team
    make.application(mission, make.volunteer())
    client = client_for(manager)
    for url in dashboard_urls(organisation, mission):
        assert_drawn_by_dsfr(client.get(url), url)


def test_organisation_form_says_what_to_fill_in(team):
    main = main_of(client_for(team[1]).get("/fr/espace-association/"))
    filled = autocomplete_of(main)
    assert (filled["name"], filled["postal_code"], filled["contact_email"]) == (
        "organization",
        "postal-code",
        "email",
    )


def test_dashboard_errors_show_on_their_field(team):
    organisation, manager, mission = team
    client = client_for(manager)
    base = f"/fr/espace-association/{organisation.pk}"
    created = {"name": "Mairie", "type": "association", "rna": "W75"}
    assert_error_only_on(client.post("/fr/espace-association/", created), "rna", status=200)
    assert_error_only_on(client.post(f"{base}/equipe/", {"email": "nope"}), "email", status=200)
    for url in (f"{base}/missions/nouvelle/", f"{base}/missions/{mission.pk}/"):
        response = client.post(url, mission_data(places=-1))
        assert_error_only_on(response, "places")


def test_applicants_filters_keep_what_was_asked(team):
    organisation, manager, mission = team
    url = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/candidatures/"
    main = main_of(client_for(manager).get(url, {"q": "Vol", "status": "pending"}))
    assert main.find("input", attrs={"name": "q"})["value"] == "Vol"
    assert main.find("select", attrs={"name": "status"}).find("option", selected=True)["value"] == (
        "pending"
    )
    bogus = main_of(client_for(manager).get(url, {"status": "nope"}))
    assert not bogus.select(".fr-error-text")  # a filter never fails: it filters nothing
