"""The header knows who you are, on cached pages too: the account area, /api/v1/me, the
`signed_in` hint and sign-out from any page (accounts/account_area.py)."""

import re
from pathlib import Path

import pytest

from accounts.account_area import HINT_COOKIE, MENU_ORGANISATIONS
from missions.models import Mission
from portal.cache import public_header
from tests import factories as make

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
HEADER = re.compile(r'<header role="banner".*?</header>', re.S)


def header(response) -> str:
    return HEADER.search(response.text).group(0)


def signed_in_client(user):
    client = make.client_for(user)
    client.cookies[HINT_COOKIE] = "1"  # as a real sign-in leaves it
    return client


# --- Public pages: one body for everyone ------------------------------------------------------


def public_pages(demo):
    mission = Mission.objects.public(demo["localhost"]).first()
    return [
        "/fr/",
        "/en/",
        "/fr/missions/",
        "/fr/missions/?postal_code=69007&radius=20",
        mission.get_absolute_url(),
        "/fr/search/?query=mission",
        "/fr/inscription/",
        "/fr/statistiques/",
        "/fr/comment-ca-marche/",
    ]


def test_a_public_page_is_the_same_bytes_and_headers_signed_in_and_out(client, demo, manager):
    signed_in = signed_in_client(manager)
    for url in public_pages(demo):
        anonymous = client.get(url)
        personal = signed_in.get(url)
        assert anonymous.status_code == personal.status_code == 200, url
        assert anonymous.content == personal.content, url
        assert anonymous["Cache-Control"] == personal["Cache-Control"] == public_header(), url
        assert anonymous.get("Vary") == personal.get("Vary"), url
        assert "Cookie" not in (personal.get("Vary") or ""), url
        assert not anonymous.cookies and not personal.cookies, url
        assert "Set-Cookie" not in personal.headers, url
        # The signed-out area, for the script to replace; nothing of the person.
        top = header(personal)
        assert 'data-account-state="public"' in top, url
        assert 'href="/fr/inscription/"' in top or 'href="/en/inscription/"' in top, url
        assert "Dominique" not in personal.text and "Les Amis du Quartier" not in personal.text
        assert "/static/accounts/account.js" in personal.text, url


def test_a_session_without_the_hint_gets_the_same_public_page_and_no_cookie(client, manager):
    # The hint is repaired on private pages only: a public page never sets anything.
    personal = make.client_for(manager).get("/fr/")
    assert personal.content == client.get("/fr/").content
    assert not personal.cookies and personal["Cache-Control"] == public_header()


def test_the_script_builds_the_menu_without_parsing_html():
    script = (ROOT / "accounts" / "static" / "accounts" / "account.js").read_text()
    assert "textContent" in script
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script)


def test_the_signed_out_header_offers_volunteering_and_signing_in(client, demo):
    top = header(client.get("/fr/"))
    assert re.search(
        r'<a class="fr-btn fr-icon-user-add-line" href="/fr/inscription/">\s*Devenir bénévole', top
    )
    assert re.search(
        r'<a class="fr-btn fr-icon-account-circle-line" href="/fr/compte/connexion/">'
        r"\s*Se connecter",
        top,
    )
    assert "Se déconnecter" not in top and "<form" not in top
    # The menu, skip links and footer another change added are still there.
    page = client.get("/fr/").text
    assert 'id="header-navigation"' in page and 'class="fr-skiplinks"' in page
    assert 'id="footer"' in page


# --- Private pages: the server renders the signed-in area -------------------------------------


def test_private_pages_render_the_signed_in_area(manager, org):
    client = signed_in_client(manager)
    for url in ["/fr/espace/", f"/fr/espace-association/{org.pk}/", "/fr/espace/candidatures/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        top = header(response)
        assert 'data-account-state="in"' in top
        assert 'aria-controls="account-menu">Dominique</button>' in top
        assert '<a class="fr-nav__link" href="/fr/espace/" data-kind="space"' in top
        assert 'href="/fr/espace/candidatures/" data-kind="applications"' in top
        assert f'href="/fr/espace-association/{org.pk}/" data-kind="organisation"' in top
        assert ">Les Amis du Quartier</a>" in top
        assert 'data-kind="admin"' not in top  # not staff
        assert '<form method="post" action="/fr/compte/deconnexion/">' in top
        assert "Se déconnecter</button>" in top
        assert "Devenir bénévole" not in top and ">Se connecter<" not in top
    current = header(client.get("/fr/espace/candidatures/"))
    assert 'href="/fr/espace/candidatures/" data-kind="applications" aria-current="page"' in current


def test_the_area_is_drawn_twice_and_never_inside_the_links_dsfr_copies(manager, org):
    """DSFR copies the first tools-links into the first menu-links with innerHTML: a collapse
    it has measured carries an inline style the CSP refuses. The account area has its own
    place in both, each menu with its own id."""
    top = header(signed_in_client(manager).get(f"/fr/espace-association/{org.pk}/"))
    copied = re.search(r'<div class="fr-header__tools-links">(.*?)</div>', top, re.S).group(1)
    assert "data-account" not in copied and "fr-collapse" not in copied
    assert 'hreflang="en"' in copied
    assert 'class="fr-header__menu-links"></div>' in top  # DSFR's target, empty
    for menu_id in ("account-menu", "account-menu-mobile"):
        assert f'data-account-menu="{menu_id}"' in top
        assert f'aria-controls="{menu_id}">Dominique</button>' in top
        assert top.count(f'id="{menu_id}"') == 1


def test_the_area_escapes_names_and_shows_the_admin_to_those_who_may_open_it(demo):
    editor = make.editor(demo["localhost"], first_name="<b>Ed</b>")
    top = header(signed_in_client(editor).get("/fr/espace/"))
    assert "&lt;b&gt;Ed&lt;/b&gt;</button>" in top and "<b>Ed</b>" not in top
    assert '<a class="fr-nav__link" href="/admin/" data-kind="admin"' in top
    assert ">Administration</a>" in top
    nameless = make.volunteer(first_name="")
    assert 'aria-controls="account-menu">Mon compte</button>' in header(
        signed_in_client(nameless).get("/fr/espace/")
    )


def test_a_private_page_seen_signed_out_shows_the_signed_out_area(client, demo):
    response = client.get("/fr/compte/connexion/")
    assert response.status_code == 200
    top = header(response)
    assert 'data-account-state="out"' in top and "Devenir bénévole" in top


def test_the_sign_out_form_has_no_field_but_its_token(manager):
    top = header(signed_in_client(manager).get("/fr/espace/"))
    form = re.search(r"<form.*?</form>", top, re.S).group(0)
    assert re.findall(r"<input[^>]*>", form) == re.findall(
        r'<input type="hidden" name="csrfmiddlewaretoken"[^>]*>', form
    )
    assert "fr-error" not in top


# --- GET /api/v1/me ---------------------------------------------------------------------------


def test_me_answers_204_signed_out_and_is_never_cached(client, demo):
    response = client.get("/api/v1/me")
    assert response.status_code == 204 and response.content == b""
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_me_lists_the_managers_own_organisations_only(demo, org, manager):
    make.organisation(demo["localhost"], name="Une Autre Association")  # not theirs
    second = make.organisation(demo["covid19.localhost"], name="Brigade Solidaire")
    make.manager(second)  # someone else manages it too
    second.memberships.create(user=manager)
    response = signed_in_client(manager).get("/api/v1/me?language=fr")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["first_name"] == "Dominique" and body["label"] == "Dominique"
    organisations = [link for link in body["links"] if link["kind"] == "organisation"]
    assert organisations == [
        {
            "kind": "organisation",
            "label": "Brigade Solidaire",
            "url": f"/fr/espace-association/{second.pk}/",
        },
        {
            "kind": "organisation",
            "label": "Les Amis du Quartier",
            "url": f"/fr/espace-association/{org.pk}/",
        },
    ]
    assert body["links"][:2] == [
        {"kind": "space", "label": "Mon espace bénévole", "url": "/fr/espace/"},
        {"kind": "applications", "label": "Mes candidatures", "url": "/fr/espace/candidatures/"},
    ]
    assert not [link for link in body["links"] if link["kind"] == "admin"]
    assert body["sign_out"] == {"label": "Se déconnecter", "url": "/fr/compte/deconnexion/"}


def test_me_speaks_the_pages_language(manager, org):
    body = signed_in_client(manager).get("/api/v1/me?language=en").json()
    assert body["links"][0] == {
        "kind": "space",
        "label": "My volunteer space",
        "url": "/en/espace/",
    }
    assert body["sign_out"]["url"] == "/en/compte/deconnexion/"
    unknown = signed_in_client(manager).get("/api/v1/me?language=xx").json()
    assert unknown["links"][0]["url"] == "/fr/espace/"


def test_me_lists_a_few_organisations_then_links_to_all(demo):
    person = make.volunteer(first_name="Alix")
    for _ in range(MENU_ORGANISATIONS + 1):
        make.organisation(demo["localhost"]).memberships.create(user=person)
    links = signed_in_client(person).get("/api/v1/me").json()["links"]
    assert len([link for link in links if link["kind"] == "organisation"]) == MENU_ORGANISATIONS
    assert {
        "kind": "organisations",
        "label": "Toutes mes associations",
        "url": "/fr/espace-association/",
    } in links


def test_me_offers_the_admin_to_staff(demo):
    body = signed_in_client(make.superuser(first_name="Root")).get("/api/v1/me").json()
    assert {"kind": "admin", "label": "Administration", "url": "/admin/"} in body["links"]


def test_me_accepts_only_get(manager):
    assert signed_in_client(manager).post("/api/v1/me").status_code == 405


# --- The `signed_in` hint ---------------------------------------------------------------------


def test_signing_in_and_out_sets_and_drops_the_hint(client, manager, org):
    response = client.post(
        "/fr/compte/connexion/", {"username": manager.email, "password": "a long password 123"}
    )
    assert response.status_code == 302
    hint = response.cookies[HINT_COOKIE]
    assert hint.value == "1" and not hint["httponly"] and hint["samesite"] == "Lax"
    out = client.post("/fr/compte/deconnexion/", HTTP_ORIGIN="http://localhost")
    assert out.status_code == 302
    assert out.cookies[HINT_COOKIE].value == "" and out.cookies[HINT_COOKIE]["max-age"] == 0


def test_a_stale_hint_is_dropped_and_a_missing_one_restored(client, demo, manager):
    client.cookies[HINT_COOKIE] = "1"
    stale = client.get("/api/v1/me")
    assert stale.status_code == 204 and stale.cookies[HINT_COOKIE]["max-age"] == 0
    signed_in = make.client_for(manager)  # a session from before the hint existed
    assert signed_in.get("/fr/espace/").cookies[HINT_COOKIE].value == "1"
    assert HINT_COOKIE not in signed_in.get("/fr/espace/").cookies  # kept, not re-sent


# --- Sign out from any page -------------------------------------------------------------------


def test_sign_out_from_a_cached_page_needs_no_token_but_the_same_origin(manager):
    client = make.client_for(manager, enforce_csrf_checks=True)
    refused = client.post("/fr/compte/deconnexion/", HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403
    assert client.get("/fr/espace/").status_code == 200  # still signed in
    response = client.post("/fr/compte/deconnexion/", HTTP_ORIGIN="http://localhost")
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 204
    assert client.get("/fr/espace/").status_code == 302  # to the sign-in page


def test_sign_out_with_the_private_pages_token_works_too(manager):
    client = make.client_for(manager, enforce_csrf_checks=True)
    page = client.get("/fr/espace/").text
    token = re.search(
        r'<form method="post" action="/fr/compte/deconnexion/">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"',
        page,
    ).group(1)
    response = client.post("/fr/compte/deconnexion/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 204
