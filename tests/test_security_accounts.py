"""Security review (issue 12), accounts side: email sent on a user's behalf (8), sign-in links
a stranger cannot exhaust (9), password throttling, staff two-factor, links and sign-out (10),
IPv6 rate-limit keys."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import ratelimits
from accounts.staff import is_staff_account, requires_two_factor
from accounts.tokens import make_token, read_token
from emails.models import OutboundEmail
from organisations.models import Invitation, Organisation
from organisations.services import ensure_moderators_group
from tests import factories as make
from tests.factories import client_for
from tests.otp_support import current_code, force_login_unverified, verified_device

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


# --- 8. Email sent on behalf of a signed-in user ------------------------------------------------


def test_email_change_is_limited_per_user(demo, settings):
    settings.USER_EMAIL_RATE_PER_USER = "2/h"
    client = client_for(make.volunteer("lea@example.com"))
    codes = [
        client.post("/fr/espace/email/", {"email": f"new{i}@example.com"}).status_code
        for i in range(3)
    ]
    assert codes == [302, 302, 429]
    assert OutboundEmail.objects.filter(template="email_change").count() == 2
    refused = client.post("/fr/espace/email/", {"email": "new9@example.com"})
    assert int(refused["Retry-After"]) > 0 and "Trop de tentatives" in refused.text


def test_email_change_is_limited_per_target_address_across_users(demo, settings):
    settings.USER_EMAIL_RATE_PER_TARGET = "1/h"
    first = client_for(make.volunteer())
    second = client_for(make.volunteer())
    assert first.post("/fr/espace/email/", {"email": "victim@example.com"}).status_code == 302
    assert second.post("/fr/espace/email/", {"email": "Victim@example.com"}).status_code == 429
    assert OutboundEmail.objects.filter(to_email="victim@example.com").count() == 1


def test_old_address_is_told_when_a_change_is_requested_and_when_it_is_made(demo):
    user = make.volunteer("lea@example.com")
    client = client_for(user)
    client.post("/fr/espace/email/", {"email": "lea.new@example.com"})
    requested = OutboundEmail.objects.get(template="email_change_notice")
    assert requested.to_email == "lea@example.com"
    assert requested.context["changed"] is False
    assert requested.context["new_email"] == "l******@example.com"  # masked
    link = OutboundEmail.objects.get(template="email_change").context["action_path"]
    assert client.post(link).status_code == 302
    changed = OutboundEmail.objects.filter(template="email_change_notice").latest("created_at")
    assert changed.to_email == "lea@example.com" and changed.context["changed"] is True
    user.refresh_from_db()
    assert user.email == "lea.new@example.com"


@pytest.fixture
def manager(demo):
    organisation = make.organisation(demo["localhost"])
    return make.manager(organisation), organisation


def test_invitations_are_limited_per_user(manager, settings):
    settings.USER_EMAIL_RATE_PER_USER = "2/h"
    user, organisation = manager
    client = client_for(user)
    url = f"/fr/espace-association/{organisation.pk}/equipe/"
    codes = [client.post(url, {"email": f"guest{i}@example.com"}).status_code for i in range(3)]
    assert codes[:2] == [302, 302] and codes[2] != 302
    assert Invitation.objects.filter(organisation=organisation).count() == 2
    assert OutboundEmail.objects.filter(template="invitation").count() == 2
    again = client.post(url, {"email": "guest9@example.com"})
    assert "Trop de tentatives" in again.text


def test_organisation_creation_is_limited_per_user(demo, settings):
    settings.ORGANISATION_CREATE_RATE_PER_USER = "2/d"
    client = client_for(make.volunteer())
    codes = [
        client.post(
            "/fr/espace-association/",
            {"name": f"Mairie {i}", "type": "association", "rna": "W751234567"},
        ).status_code
        for i in range(3)
    ]
    assert codes[:2] == [302, 302] and codes[2] != 302
    assert Organisation.objects.filter(name__startswith="Mairie ").count() == 2


# --- 9. Sign-in links: a stranger cannot lock a volunteer out -----------------------------------


def test_a_stranger_cannot_spend_a_volunteers_sign_in_links(demo, settings):
    settings.SIGNIN_LINK_RATE_PER_EMAIL_IP = "3/h"
    user = make.volunteer("lea@example.com")
    stranger = client_for()
    codes = [
        stranger.post(
            "/fr/compte/connexion/lien/",
            {"email": user.email},
            REMOTE_ADDR="198.51.100.66",
        ).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    # The volunteer, from their own connection, still gets their link.
    own = client_for().post(
        "/fr/compte/connexion/lien/",
        {"email": user.email},
        REMOTE_ADDR="203.0.113.5",
    )
    assert own.status_code == 200


def test_many_ips_together_get_the_same_answer_but_no_more_emails(demo, settings):
    settings.SIGNIN_LINK_RATE_PER_EMAIL = "2/h"
    factory = RequestFactory()
    sends = []
    for i in range(4):
        request = factory.post("/", REMOTE_ADDR=f"198.51.100.{i}")
        request.client_ip = f"198.51.100.{i}"
        limited, send = ratelimits.check_signin_link(request, "lea@example.com")
        assert limited is None  # each IP is under its own limit: same 200 answer
        sends.append(send)
    assert sends == [True, True, False, False]


# --- IPv6 clients are keyed on their /64 ----------------------------------------------------------


def test_ipv6_rate_limit_key_is_the_64():
    assert ratelimits.ip_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert ratelimits.ip_key("2001:db8:1:2:bbbb:cccc:dddd:eeee") == "2001:db8:1:2::/64"
    assert ratelimits.ip_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert ratelimits.ip_key("203.0.113.9") == "203.0.113.9"
    assert ratelimits.ip_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert ratelimits.ip_key("not an ip") == "not an ip"


def test_ipv6_addresses_of_one_64_share_the_signup_limit(client, demo, settings):
    settings.SIGNUP_RATE_PER_IP = "2/m"
    codes = []
    for i in range(3):
        codes.append(
            client.post(
                "/api/v1/signup",
                {
                    "email": f"v6-{i}@example.com",
                    "first_name": "A",
                    "last_name": "B",
                    "postal_code": "75011",
                    "birth_date": "1990-05-01",
                    "consent": True,
                },
                content_type="application/json",
                REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}",
            ).status_code
        )
    assert codes == [202, 202, 429]


# --- 10. Password sign-in throttled ---------------------------------------------------------------


def login(client, email, password, ip="203.0.113.7", url="/fr/compte/connexion/"):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_password_sign_in_is_throttled_per_account_and_ip_with_a_form_error(demo, settings):
    settings.LOGIN_RATE_PER_ACCOUNT_IP = "3/15m"
    user = make.volunteer("lea@example.com", PASSWORD)
    attacker = client_for()
    assert [login(attacker, user.email, "wrong").status_code for _ in range(3)] == [200] * 3
    refused = login(attacker, user.email, PASSWORD)  # even the right password, from there
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Trop de tentatives" in refused.text
    assert "_auth_user_id" not in attacker.session
    # The owner, elsewhere, is not locked out by the stranger.
    owner = client_for()
    assert login(owner, user.email, PASSWORD, ip="192.0.2.20").status_code == 302


def test_password_sign_in_failures_per_account_from_many_ips(demo, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "4/h"
    user = make.volunteer("lea@example.com", PASSWORD)
    for i in range(4):
        assert login(client_for(), user.email, "wrong", ip=f"198.51.100.{i}").status_code == 200
    assert login(client_for(), user.email, "wrong", ip="198.51.100.99").status_code == 429


def test_password_sign_in_attempts_per_ip(demo, settings):
    settings.LOGIN_RATE_PER_IP = "3/m"
    client = client_for()
    codes = [login(client, f"u{i}@example.com", "x").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_admin_sign_in_is_throttled_too(demo, settings):
    settings.LOGIN_RATE_PER_ACCOUNT_IP = "2/15m"
    make.superuser("root@example.com", PASSWORD)
    client = client_for()
    codes = [
        login(client, "root@example.com", "wrong", url="/admin/login/").status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    refused = login(client, "root@example.com", PASSWORD, url="/admin/login/")
    assert refused.status_code == 429 and "Trop de tentatives" in refused.text


def test_change_password_asks_for_the_current_one(demo):
    user = make.volunteer("lea@example.com", PASSWORD)
    client = client_for(user)
    new = {"new_password1": "an0ther long Passphrase", "new_password2": "an0ther long Passphrase"}
    refused = client.post("/fr/espace/mot-de-passe/", new)
    assert refused.status_code == 200 and "old_password" in refused.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    wrong = client.post("/fr/espace/mot-de-passe/", {**new, "old_password": "nope"})
    assert wrong.status_code == 200
    ok = client.post("/fr/espace/mot-de-passe/", {**new, "old_password": PASSWORD})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an0ther long Passphrase")


def test_an_account_without_a_password_sets_its_first_one(demo):
    user = make.volunteer("lea@example.com")  # signed up by email link: no password yet
    new = {"new_password1": "an0ther long Passphrase", "new_password2": "an0ther long Passphrase"}
    assert client_for(user).post("/fr/espace/mot-de-passe/", new).status_code == 302


# --- 10. Emailed links after "sign out everywhere", and never for staff -------------------------


def test_sign_out_everywhere_voids_sign_in_links_already_sent(demo):
    site = demo["localhost"]
    user = make.volunteer("lea@example.com")
    token = make_token(user, "login", site)
    assert read_token(token, "login", 900, site) == user
    client = client_for(user)
    client.post("/fr/espace/sessions/")
    assert read_token(token, "login", 900, site) is None
    assert client_for().post(f"/fr/compte/lien/{token}/").status_code == 400


def staff_accounts(demo):
    """A superuser, an is_staff account, an editor and a moderator, all with a password and a
    confirmed email: nothing but their rights keeps an emailed link from signing them in."""
    confirmed = {"password": PASSWORD, "email_confirmed_at": timezone.now()}
    return [
        make.superuser(password=PASSWORD),
        make.volunteer(password=PASSWORD, is_staff=True),
        make.editor(demo["localhost"], **confirmed),
        make.moderator(demo["localhost"], **confirmed),
    ]


def test_emailed_links_never_sign_in_a_staff_account(demo):
    site = demo["localhost"]
    for user in staff_accounts(demo):
        client = client_for()
        for purpose, path in (("login", "lien"), ("confirm", "confirmer")):
            user.refresh_from_db()
            response = client.post(f"/fr/compte/{path}/{make_token(user, purpose, site)}/")
            assert response.status_code == 403, (user, purpose)
            assert "/admin/login/" in response.text
            assert "_auth_user_id" not in client.session
        # No link is even sent to them (and the answer is the one everyone gets).
        answer = client.post("/fr/compte/connexion/lien/", {"email": user.email})
        assert answer.status_code == 200
        assert not OutboundEmail.objects.filter(to_email=user.email).exists()
    volunteer = make.volunteer("lea@example.com")
    assert (
        client_for().post(f"/fr/compte/lien/{make_token(volunteer, 'login', site)}/").status_code
        == 302
    )


# --- 10. TOTP for staff -------------------------------------------------------------------------


def unverified(user) -> Client:
    client = client_for()
    force_login_unverified(client, user)
    return client


def test_superusers_and_moderators_cannot_reach_the_admin_without_a_verified_device(demo):
    root, _staff, editor, moderator = staff_accounts(demo)
    for user in (root, moderator):
        response = unverified(user).get("/admin/pages/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/2fa/enrol/?next=/admin/pages/")
    # An editor may use the admin without one (optional for editors)...
    assert unverified(editor).get("/admin/").status_code == 200
    # ...but once enrolled, the admin asks the editor for the code too.
    verified_device(editor)
    response = unverified(editor).get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/2fa/?next=")


def test_admin_sign_in_asks_for_the_code(demo):
    root = make.superuser("root@example.com", PASSWORD)
    device = verified_device(root)
    client = client_for()
    assert login(client, root.email, PASSWORD, url="/admin/login/").status_code == 302
    bounced = client.get("/admin/")
    assert bounced.status_code == 302 and bounced["Location"].startswith("/admin/2fa/")
    wrong = client.post("/admin/2fa/", {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp slows a device down after a failure
    device.throttling_failure_timestamp = None
    device.save()
    right = client.post("/admin/2fa/", {"code": current_code(device), "next": "/admin/"})
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_second_factor_codes_are_rate_limited(demo, settings):
    settings.OTP_RATE_PER_USER = "2/15m"
    root = make.superuser("root@example.com", PASSWORD)
    verified_device(root)
    client = unverified(root)
    codes = [client.post("/admin/2fa/", {"code": "000000"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def enrol_with_the_app(client, user):
    page = client.get("/admin/2fa/enrol/?next=/admin/pages/")
    assert page.status_code == 200 and "<svg" in page.text
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page.text).group(1)
    assert secret.replace(" ", "") and "otpauth" not in page.text.split("<svg")[0][-200:]
    wrong = client.post("/admin/2fa/enrol/", {"code": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    done = client.post(
        "/admin/2fa/enrol/",
        {"code": current_code(device), "next": "/admin/pages/"},
    )
    assert done.status_code == 302 and done["Location"] == "/admin/pages/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_enrolment_at_first_sign_in_where_the_settings_allow_it(demo, settings):
    settings.TWO_FACTOR_ENROL_AT_SIGN_IN = True  # the demo's setting
    root = make.superuser("root@example.com", PASSWORD)
    enrol_with_the_app(unverified(root), root)


def test_enrolment_needs_the_emailed_link_in_production(demo, settings):
    settings.TWO_FACTOR_ENROL_AT_SIGN_IN = False
    moderator = make.moderator(
        demo["localhost"], password=PASSWORD, email_confirmed_at=timezone.now()
    )
    client = unverified(moderator)
    page = client.get("/admin/2fa/enrol/")
    assert page.status_code == 200 and "<svg" not in page.text  # a password alone: no QR code
    assert client.post("/admin/2fa/enrol/").status_code == 200
    email = OutboundEmail.objects.get(template="totp_enrolment", to_email=moderator.email)
    link = email.context["action_path"]
    assert link.startswith("/admin/2fa/enrol/")
    # The link works only for the account it was sent to, signed in.
    assert unverified(make.superuser()).post(link).status_code == 400
    assert client.post(link).status_code == 302
    enrol_with_the_app(client, moderator)


def test_the_demo_tells_the_admin_how_to_enrol(demo):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "TOTP" in out.getvalue()


def test_group_membership_makes_a_staff_account(demo):
    user = make.volunteer()
    assert not is_staff_account(user)
    user.groups.add(Group.objects.create(name="Anything"))
    assert is_staff_account(user) and not requires_two_factor(user)
    user.groups.add(ensure_moderators_group(demo["localhost"]))
    assert requires_two_factor(user)
