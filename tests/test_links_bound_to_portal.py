"""A link sent by email works on the portal that sent it, and is an invalid link on any other."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import send_signin_link, signup
from accounts.tokens import make_token
from emails.models import OutboundEmail
from organisations.models import Invitation, Membership, Organisation
from organisations.services import invite

pytestmark = pytest.mark.django_db
A, B = {"HTTP_HOST": "localhost"}, {"HTTP_HOST": "covid19.localhost"}
URLS = {"confirm": "/fr/compte/confirmer/{}/", "login": "/fr/compte/lien/{}/",
        "change-email": "/fr/compte/email/{}/"}  # fmt: skip


@pytest.fixture
def volunteer(demo):
    data = {"email": "lea@example.com", "first_name": "Léa", "last_name": "D",
            "postal_code": "75011", "birth_date": datetime.date(1995, 3, 2)}  # fmt: skip
    user = signup(site=demo["localhost"], language="fr", data=data).user
    User.objects.filter(pk=user.pk).update(pending_email="lea.new@example.com")
    user.refresh_from_db()
    return user


@pytest.mark.parametrize("purpose", URLS)
def test_a_token_issued_for_portal_a_is_refused_on_portal_b(demo, volunteer, purpose):
    url = URLS[purpose].format(make_token(volunteer, purpose, demo["localhost"]))
    other = Client()
    assert other.get(url, **B).status_code == 400
    assert other.post(url, **B).status_code == 400
    assert "_auth_user_id" not in other.session
    volunteer.refresh_from_db()
    assert (volunteer.email, volunteer.email_confirmed_at) == ("lea@example.com", None)
    # The same link on the portal that sent it works.
    assert Client().post(url, **A).status_code == 302


def test_the_emailed_sign_in_link_works_only_on_its_portal(demo, volunteer):
    send_signin_link(email=volunteer.email, site=demo["covid19.localhost"], language="fr")
    email = OutboundEmail.objects.get(template="signin_link", to_email=volunteer.email)
    path = email.context["action_path"]
    assert Client().post(path, **A).status_code == 400
    assert Client().post(path, **B).status_code == 302


def test_an_invitation_is_accepted_only_on_its_organisations_portal(demo):
    organisation = Organisation.objects.create(
        site=demo["localhost"], name="Asso", slug="asso-liens", rna="W751234567",
        status=Organisation.Status.VALIDATED,
    )  # fmt: skip
    manager = User.objects.create_user("m@example.com", email_confirmed_at=timezone.now())
    invitation = invite(organisation, "new@example.com", manager)
    newcomer = User.objects.create_user("new@example.com", email_confirmed_at=timezone.now())
    client = Client()
    client.force_login(newcomer)
    url = f"/fr/espace-association/invitation/{invitation.token}/"
    assert client.post(url, **B).status_code == 400
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None
    assert client.post(url, **A).status_code == 302
    assert Membership.objects.filter(organisation=organisation, user=newcomer).exists()
