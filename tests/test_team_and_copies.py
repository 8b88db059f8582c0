"""The team hands an organisation over; a manager duplicates a mission as a new draft."""

import threading

import pytest
from django.db import connection

from emails.models import OutboundEmail
from missions.models import Mission
from moderation.models import StateChange
from organisations import services
from organisations.models import Membership
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db


def team_url(organisation, membership, action):
    return f"/fr/espace-association/{organisation.pk}/equipe/membres/{membership.pk}/{action}/"


def test_a_manager_hands_the_organisation_over_and_leaves(org, manager):
    successor = make.manager(org, first_name="Alix")
    membership = Membership.objects.get(organisation=org, user=successor)
    response = client_for(manager).post(team_url(org, membership, "confier"))
    assert response.status_code == 302 and response["Location"] == "/fr/espace-association/"
    assert list(org.memberships.values_list("user", flat=True)) == [successor.pk]
    org.refresh_from_db()
    assert org.contact_email == successor.email
    email = OutboundEmail.objects.get(template="handover", to_email=successor.email)
    assert email.context["organisation"] == org.name
    assert email.context["action_path"] == f"/fr/espace-association/{org.pk}/"
    # The one who left has no access any more.
    assert client_for(manager).get(f"/fr/espace-association/{org.pk}/").status_code == 404


def test_handing_over_to_oneself_another_team_or_by_a_stranger_is_refused(demo, org, manager):
    own = Membership.objects.get(organisation=org, user=manager)
    client = client_for(manager)
    refused = client.post(team_url(org, own, "confier"), follow=True)
    assert "au moins un" in refused.text or "at least one" in refused.text
    other = make.organisation(demo["localhost"])
    stranger = make.manager(other)
    theirs = Membership.objects.get(user=stranger)
    assert client.post(team_url(org, theirs, "confier")).status_code == 404  # not this team's
    assert client_for(stranger).post(team_url(org, own, "confier")).status_code == 404
    assert client.get(team_url(org, own, "confier")).status_code == 405
    assert org.memberships.count() == 1 and not OutboundEmail.objects.filter(template="handover")


@pytest.mark.django_db(transaction=True)
def test_two_managers_handing_over_to_each_other_at_once_leave_one_in_charge(demo):
    org = make.organisation(demo["localhost"])
    first, second = make.manager(org), make.manager(org)
    memberships = {m.user_id: m.pk for m in org.memberships.all()}
    barrier = threading.Barrier(2)
    errors = []

    def hand(manager, to):
        try:
            barrier.wait()
            services.hand_over(org, memberships[to.pk], manager)
        except Exception as error:  # the second one finds itself no longer a member
            errors.append(type(error).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=hand, args=(first, second)),
        threading.Thread(target=hand, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert org.memberships.count() == 1
    assert len(errors) == 1


def test_a_manager_duplicates_a_mission_as_a_draft_to_edit(demo, org, manager):
    mission = make.mission(
        org, title="Maraude du soir", start_date="2026-12-01", end_date="2026-12-31", places=7
    )
    make.application(mission)
    url = f"/fr/espace-association/{org.pk}/missions/{mission.pk}/dupliquer/"
    response = client_for(manager).post(url)
    copy = Mission.objects.exclude(pk=mission.pk).get(organisation=org)
    assert response.status_code == 302
    assert response["Location"] == f"/fr/espace-association/{org.pk}/missions/{copy.pk}/"
    assert copy.status == Mission.Status.DRAFT and copy.title.startswith("Maraude du soir")
    assert copy.slug != mission.slug and copy.places == 7 and copy.active_count == 0
    assert copy.start_date is None and copy.end_date is None
    assert (copy.postal_code, copy.latitude) == (mission.postal_code, mission.latitude)
    assert list(copy.sites.all()) == [org.site]
    assert not copy.applications.exists()
    assert StateChange.objects.get(object_id=copy.pk, to_status="draft").actor == manager
    assert not Mission.objects.public(demo["localhost"]).filter(pk=copy.pk).exists()
    assert client_for(manager).get(url).status_code == 405


def test_nobody_duplicates_another_organisations_mission(demo, org, manager):
    other = make.organisation(demo["localhost"])
    theirs = make.mission(other)
    url = f"/fr/espace-association/{org.pk}/missions/{theirs.pk}/dupliquer/"
    assert client_for(manager).post(url).status_code == 404
    url = f"/fr/espace-association/{other.pk}/missions/{theirs.pk}/dupliquer/"
    assert client_for(manager).post(url).status_code == 404
    assert Mission.objects.filter(organisation=other).count() == 1
