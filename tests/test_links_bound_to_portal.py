"""A link sent by email works on the portal that sent it, and is an invalid link on any other."""

import datetime

import pytest

from accounts.models import User
from accounts.services import send_signin_link, signup
from accounts.tokens import make_token
from emails.models import OutboundEmail
from organisations.models import Invitation, Membership
from organisations.services import invite
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db
A, B = "localhost", "covid19.localhost"
URLS = {
    "confirm": "/fr/compte/confirmer/{}/",
    "login": "/fr/compte/lien/{}/",
    "change-email": "/fr/compte/email/{}/",
}


@pytest.fixture
def volunteer(demo):
    data = {
        "email": "lea@example.com",
        "first_name": "Léa",
        "last_name": "D",
        "postal_code": "75011",
        "birth_date": datetime.date(1995, 3, 2),
    }
    user = signup(site=demo["localhost"], language="fr", data=data).user
    User.objects.filter(pk=user.pk).update(pending_email="lea.new@example.com")
    user.refresh_from_db()
    return user


@pytest.mark.parametrize("purpose", URLS)
def test_a_token_issued_for_portal_a_is_refused_on_portal_b(demo, volunteer, purpose):
    url = URLS[purpose].format(make_token(volunteer, purpose, demo["localhost"]))
    other = client_for(host=B)
    assert other.get(url).status_code == 400
    assert other.post(url).status_code == 400
    assert "_auth_user_id" not in other.session
    volunteer.refresh_from_db()
    assert (volunteer.email, volunteer.email_confirmed_at) == ("lea@example.com", None)
    # The same link on the portal that sent it works.
    assert client_for(host=A).post(url).status_code == 302


def test_the_emailed_sign_in_link_works_only_on_its_portal(demo, volunteer):
    send_signin_link(email=volunteer.email, site=demo["covid19.localhost"], language="fr")
    email = OutboundEmail.objects.get(template="signin_link", to_email=volunteer.email)
    path = email.context["action_path"]
    assert client_for(host=A).post(path).status_code == 400
    assert client_for(host=B).post(path).status_code == 302


def test_an_invitation_is_accepted_only_on_its_organisations_portal(demo):
    organisation = make.organisation(demo["localhost"])
    invitation = invite(organisation, "new@example.com", make.manager(organisation))
    newcomer = make.volunteer("new@example.com")
    client = client_for(newcomer)
    url = f"/fr/espace-association/invitation/{invitation.token}/"
    assert client.post(url, HTTP_HOST=B).status_code == 400
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None
    assert client.post(url, HTTP_HOST=A).status_code == 302
    assert Membership.objects.filter(organisation=organisation, user=newcomer).exists()
