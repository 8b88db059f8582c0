"""The hourly purge deletes public signups never confirmed, and no account made in the admin."""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from accounts.services import purge_unconfirmed, signup
from organisations.services import ensure_moderators_group
from tenants.portals import editors_group_name
from tests import factories as make

pytestmark = pytest.mark.django_db
PASSWORD = "Un-mot-de-passe-solide-42"


def add_in_admin(client, email, *, groups=(), superuser=False):
    """The way an administrator creates a user: Wagtail's Users → Add user form."""
    data = {
        "email": email,
        "first_name": "Prénom",
        "last_name": "Nom",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "groups": [group.pk for group in groups],
    }
    if superuser:
        data["is_superuser"] = "on"
    response = client.post("/admin/users/new/", data)
    assert response.status_code == 302, response.content[:2000]
    return User.objects.get(email=email)


def public_signup(demo, email):
    data = {
        "first_name": "A",
        "last_name": "B",
        "postal_code": "69001",
        "birth_date": datetime.date(1990, 1, 1),
        "email": email,
    }
    return signup(site=demo["localhost"], language="fr", data=data).user


def test_accounts_made_in_the_admin_survive_the_purge(client, demo, settings):
    settings.ACCOUNT_UNCONFIRMED_PURGE_DAYS = 7
    root = make.superuser(password=PASSWORD)
    client.force_login(root)
    site = demo["localhost"]
    editors = Group.objects.get(name=editors_group_name(site))
    made_in_admin = [
        add_in_admin(client, "editeur@example.com", groups=[editors]),
        add_in_admin(client, "moderateur@example.com", groups=[ensure_moderators_group(site)]),
        add_in_admin(client, "administratrice@example.com", superuser=True),
        add_in_admin(client, "sans-groupe@example.com"),  # rights to come: still not a signup
    ]
    assert all(u.email_confirmed_at is None and not u.is_staff for u in made_in_admin)
    old_signup = public_signup(demo, "old@example.com")
    recent_signup = public_signup(demo, "recent@example.com")
    eight_days_ago = timezone.now() - datetime.timedelta(days=8)
    User.objects.exclude(pk=recent_signup.pk).update(date_joined=eight_days_ago)

    assert purge_unconfirmed() == 1

    assert not User.objects.filter(pk=old_signup.pk).exists()
    assert User.objects.filter(pk__in=[u.pk for u in made_in_admin]).count() == 4
    assert User.objects.filter(pk__in=[root.pk, recent_signup.pk]).count() == 2


def test_only_the_public_signup_marks_an_account(demo):
    assert public_signup(demo, "vol@example.com").signed_up_publicly
    assert not make.user().signed_up_publicly


def test_the_migration_marks_existing_public_signups_only(demo):
    """Rows from before the marker: a signup site or a consent, and no rights, is a signup."""
    mark = import_module("accounts.migrations.0003_user_signed_up_publicly").mark_public_signups
    site = demo["localhost"]
    volunteer = make.user(signup_site=site)
    consented = make.user(consent_at=timezone.now())
    editor = make.editor(site, password=None, signup_site=site)
    staff = make.user(signup_site=site, is_staff=True)
    made_in_admin = make.user()
    mark(apps, None)
    marked = set(User.objects.filter(signed_up_publicly=True).values_list("pk", flat=True))
    assert {volunteer.pk, consented.pk} <= marked
    assert not {editor.pk, staff.pk, made_in_admin.pk} & marked
