"""Where a person lands after signing in (accounts/landing.py): the `next` they came from if
it stays on the portal, else their association's dashboard (one), the association home
(several) or the volunteer space; through the password form, the emailed links and the sign-in
page seen while signed in."""

import pytest
from django.test import RequestFactory

from accounts.landing import account_home, landing_url
from accounts.tokens import make_token
from missions.models import Mission
from tests import factories as make

pytestmark = pytest.mark.django_db


def request_for(user, **query):
    request = RequestFactory().get("/fr/compte/connexion/", query, HTTP_HOST="localhost")
    request.user = user
    return request


def test_account_home_per_kind_of_account(demo, org, manager):
    assert account_home(make.volunteer()) == "/fr/espace/"
    assert account_home(manager) == f"/fr/espace-association/{org.pk}/"
    make.organisation(demo["localhost"]).memberships.create(user=manager)
    assert account_home(manager) == "/fr/espace-association/"  # the chooser lists both


def test_landing_honours_next_on_the_portal_only(demo, manager, org):
    mission = Mission.objects.public(demo["localhost"]).first()
    path = mission.get_absolute_url()
    assert landing_url(request_for(manager, next=path)) == path
    assert (
        landing_url(request_for(manager, next="http://localhost" + path))
        == "http://localhost" + path
    )
    dashboard = f"/fr/espace-association/{org.pk}/"
    for outside in [
        "https://evil.example/",
        "//evil.example/fr/",
        "javascript:alert(1)",
        "http://covid19.localhost/fr/",
    ]:
        assert landing_url(request_for(manager, next=outside)) == dashboard, outside


def login(client, user, **data):
    return client.post(
        "/fr/compte/connexion/", {"username": user.email, "password": "pw 12345 long", **data}
    )


def test_password_sign_in_lands_per_account(client, demo):
    volunteer = make.volunteer(password="pw 12345 long")
    assert login(make.client_for(), volunteer)["Location"] == "/fr/espace/"
    organisation = make.organisation(demo["localhost"])
    one = make.manager(organisation, password="pw 12345 long")
    assert login(make.client_for(), one)["Location"] == f"/fr/espace-association/{organisation.pk}/"
    make.organisation(demo["localhost"]).memberships.create(user=one)
    chooser = make.client_for()
    assert login(chooser, one)["Location"] == "/fr/espace-association/"
    page = chooser.get("/fr/espace-association/").text
    assert page.count('href="/fr/espace-association/') >= 2
    assert login(make.client_for(), one, next="/fr/missions/")["Location"] == "/fr/missions/"
    ignored = login(make.client_for(), one, next="https://evil.example/")
    assert ignored["Location"] == "/fr/espace-association/"


def test_the_sign_in_page_sends_a_signed_in_visitor_on(manager, org):
    # The header's "Sign in" link, followed without JavaScript by someone signed in.
    client = make.client_for(manager)
    assert client.get("/fr/compte/connexion/")["Location"] == f"/fr/espace-association/{org.pk}/"
    assert client.get("/fr/compte/connexion/?next=/fr/missions/")["Location"] == "/fr/missions/"
    looping = client.get("/fr/compte/connexion/?next=/fr/compte/connexion/")
    assert looping.status_code == 302 and looping["Location"] == f"/fr/espace-association/{org.pk}/"


def test_emailed_links_land_per_account(demo, org, manager):
    def link(query=""):
        manager.refresh_from_db()  # a link works once: the next one is made after it
        return f"/fr/compte/lien/{make_token(manager, 'login', demo['localhost'])}/{query}"

    assert make.client_for().post(link())["Location"] == f"/fr/espace-association/{org.pk}/"
    assert make.client_for().post(link("?next=/fr/missions/"))["Location"] == "/fr/missions/"
    outside = make.client_for().post(link("?next=https://evil.example/"))
    assert outside["Location"] == f"/fr/espace-association/{org.pk}/"
    newcomer = make.user("newcomer@example.com")
    confirm = f"/fr/compte/confirmer/{make_token(newcomer, 'confirm', demo['localhost'])}/"
    assert make.client_for().post(confirm)["Location"] == "/fr/espace/"


def test_a_manager_confirming_their_address_lands_on_the_dashboard_with_the_message(demo, org):
    invited = make.user("invited@example.com")
    org.memberships.create(user=invited)
    client = make.client_for()
    confirm = f"/fr/compte/confirmer/{make_token(invited, 'confirm', demo['localhost'])}/"
    response = client.post(confirm, follow=True)
    assert response.redirect_chain[-1][0] == f"/fr/espace-association/{org.pk}/"
    assert "Votre adresse est confirmée" in response.text
