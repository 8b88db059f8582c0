"""GDPR: deleting an account frees its places and erases what it wrote and its name in the
managers' emails; the data export says everything we hold; the outbox and purged accounts
follow their retention period."""

import datetime
import json

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import delete_account, purge_unconfirmed, signup
from emails.models import OutboundEmail
from emails.outbox import purge_finished
from missions import services as missions
from missions.models import Application
from organisations.models import Membership
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo):
    return make.organisation(demo["localhost"], name="Épicerie solidaire")


@pytest.fixture
def manager(org):
    return make.manager(org, "boss@example.com")


def test_deleting_an_account_frees_its_place_and_promotes_the_waiting_list(org, demo, manager):
    mission = make.mission(org, places=1)
    leaving = make.volunteer("zoe@example.com", first_name="Zoé", last_name="Martin")
    waiting = make.volunteer(first_name="Ali", last_name="Martin")
    missions.apply(mission.pk, leaving, "Mon numéro : 06 12 34 56 78")
    assert missions.apply(mission.pk, waiting).status == Application.Status.WAITLISTED

    delete_account(leaving)

    gone = Application.objects.get(mission=mission, volunteer=leaving)
    assert gone.status == Application.Status.CANCELLED and gone.message == ""
    assert Application.objects.get(volunteer=waiting).status == Application.Status.PENDING
    mission.refresh_from_db()
    assert mission.active_count == 1  # the freed place went to the waiting list


def test_deleting_an_account_erases_its_name_from_the_managers_emails(org, demo, manager):
    mission = make.mission(org)
    leaving = make.volunteer("zoe@example.com", first_name="Zoé", last_name="Martin")
    application = missions.apply(mission.pk, leaving, "Bonjour")
    to_manager = OutboundEmail.objects.filter(to_email="boss@example.com")
    assert any(e.context.get("applicant") == "Zoé Martin" for e in to_manager)

    delete_account(leaving)

    texts = json.dumps([e.context for e in OutboundEmail.objects.all()], ensure_ascii=False)
    assert "Zoé" not in texts and "Martin" not in texts and "zoe@example.com" not in texts
    about = to_manager.filter(idempotency_key__contains=f":{application.pk}:")
    assert about.count() == 2  # told of the application, then of its cancellation
    assert {e.context["applicant"] for e in about} == {"Un bénévole"}


def test_the_export_includes_applications_and_memberships(org, demo, manager):
    mission = make.mission(org, title="Collecte")
    volunteer = make.volunteer()
    missions.apply(mission.pk, volunteer, "Disponible le samedi")
    Membership.objects.create(organisation=org, user=volunteer)
    data = json.loads(make.client_for(volunteer).get("/fr/espace/export/").content)
    assert data["applications"] == [
        {
            "mission": "Collecte",
            "organisation": "Épicerie solidaire",
            "status": "pending",
            "message": "Disponible le samedi",
            "applied_at": data["applications"][0]["applied_at"],
            "status_changed_at": None,
            "cancel_reason": "",
            "details": "",
            "you_said_it_happened": None,
            "your_comment_after_the_mission": "",
            "answered_at": None,
        }
    ]
    assert [m["organisation"] for m in data["memberships"]] == ["Épicerie solidaire"]
    assert data["favourites"] == []


def test_finished_emails_are_deleted_after_the_retention_period(demo, settings):
    settings.EMAIL_RETENTION_DAYS = 90
    old = timezone.now() - datetime.timedelta(days=91)
    rows = {}
    for status in ("sent", "failed", "suppressed", "pending"):
        rows[status] = OutboundEmail.objects.create(
            to_email=f"{status}@example.com",
            template="account_confirmation",
            idempotency_key=f"retention:{status}",
            status=status,
            site=demo["localhost"],
        )
    recent = OutboundEmail.objects.create(
        to_email="recent@example.com",
        template="account_confirmation",
        idempotency_key="retention:recent",
        status="sent",
        site=demo["localhost"],
    )
    OutboundEmail.objects.filter(pk__in=[r.pk for r in rows.values()]).update(created_at=old)

    assert purge_finished() == 3
    retained = OutboundEmail.objects.filter(idempotency_key__startswith="retention:")
    left = set(retained.values_list("to_email", flat=True))
    assert left == {"pending@example.com", "recent@example.com"}
    assert recent.pk


def test_purged_signups_leave_no_email_behind(demo, settings):
    settings.ACCOUNT_UNCONFIRMED_PURGE_DAYS = 7
    data = {
        "first_name": "Noé",
        "last_name": "B",
        "postal_code": "69001",
        "birth_date": datetime.date(1990, 1, 1),
        "email": "never@example.com",
    }
    user = signup(site=demo["localhost"], language="fr", data=data).user
    assert OutboundEmail.objects.filter(to_email="never@example.com").exists()
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - datetime.timedelta(days=8))
    assert purge_unconfirmed() == 1
    assert not OutboundEmail.objects.filter(to_email="never@example.com").exists()
