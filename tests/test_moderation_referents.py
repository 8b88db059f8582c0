"""Département referents: a moderator scoped to départements sees, counts and moderates only
those; an unscoped moderator keeps the whole portal (moderation.scope)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from emails.models import OutboundEmail
from missions import services as mission_services
from missions.models import Application, Mission
from missions.postcodes import departement
from moderation import digest, scope
from moderation.admin_views import ReferentForm
from moderation.models import Note, Referent, Report
from organisations import services
from organisations.admin_views import MissionQueue, ModerationPanel, queue_queryset
from organisations.models import Organisation
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db

SUBMITTED = Organisation.Status.SUBMITTED


@pytest.fixture
def places(demo):
    """Submitted organisations and missions in Paris (75), Lyon (69), Ajaccio (2A), Bastia
    (2B) and Guadeloupe (971) on the national portal, one in Paris on the other portal."""
    site = demo["localhost"]
    made = {}
    for key, code, city in [
        ("75", "75011", "Paris"),
        ("69", "69007", "Lyon"),
        ("2A", "20000", "Ajaccio"),
        ("2B", "20200", "Bastia"),
        ("971", "97110", "Pointe-à-Pitre"),
    ]:
        organisation = make.organisation(site, SUBMITTED, postal_code=code, city=city)
        made[key] = (organisation, make.mission(organisation, SUBMITTED, postal_code=code))
    other = make.organisation(demo["covid19.localhost"], SUBMITTED, postal_code="75002")
    made["other"] = (other, make.mission(other, SUBMITTED, postal_code="75002"))
    return made


def referent(site, *departements):
    moderator = make.moderator(site)
    for code in departements:
        Referent.objects.create(user=moderator, site=site, departement=code)
    return moderator


def test_a_referent_sees_their_departements_and_an_unscoped_moderator_the_whole_portal(
    demo, places
):
    site = demo["localhost"]
    corsica = referent(site, "2A", "971")
    whole = make.moderator(site)
    seen = set(queue_queryset(Organisation, corsica).values_list("pk", flat=True))
    assert seen == {places["2A"][0].pk, places["971"][0].pk}  # not Bastia (2B): 20200 and up
    seen = set(queue_queryset(Mission, corsica).values_list("pk", flat=True))
    assert seen == {places["2A"][1].pk, places["971"][1].pk}
    everything = set(queue_queryset(Organisation, whole).values_list("pk", flat=True))
    assert {places[key][0].pk for key in ("75", "69", "2A", "2B", "971")} <= everything
    assert places["other"][0].pk not in everything  # another portal: never
    # The 2B referent sees Bastia only.
    assert list(queue_queryset(Organisation, referent(site, "2B"))) == [places["2B"][0]]


def test_a_remote_mission_belongs_to_its_organisations_departement(demo, places):
    site = demo["localhost"]
    lyon = places["69"][0]
    remote = make.mission(lyon, SUBMITTED, is_remote=True, postal_code="", city="")
    assert remote in queue_queryset(Mission, referent(site, "69"))
    assert remote not in queue_queryset(Mission, referent(site, "75"))


def test_a_referent_on_one_portal_keeps_another_portal_whole(demo, places):
    moderator = referent(demo["localhost"], "69")
    moderator.groups.add(services.ensure_moderators_group(demo["covid19.localhost"]))
    seen = queue_queryset(Organisation, moderator)
    national = seen.filter(site=demo["localhost"])
    assert places["69"][0] in national
    assert {departement(o.postal_code) for o in national} == {"69"}  # the demo's Lyon too
    covid = Organisation.objects.filter(site=demo["covid19.localhost"])
    assert set(seen.filter(site=demo["covid19.localhost"])) == set(covid)


def test_another_departements_item_is_a_404_in_every_queue_view(demo, places):
    lyon = client_for(referent(demo["localhost"], "69"))
    paris_org, paris_mission = places["75"]
    own_org, own_mission = places["69"]
    for kind, obj, own in [
        ("organisation", paris_org, own_org),
        ("mission", paris_mission, own_mission),
    ]:
        assert lyon.get(f"/admin/{kind}_queue/inspect/{own.pk}/", follow=True).status_code == 200
        for view in ("inspect", "moderate", "note"):
            url = f"/admin/{kind}_queue/{view}/{obj.pk}/"
            assert lyon.get(url, follow=True).status_code == 404
        moderate = f"/admin/{kind}_queue/moderate/{obj.pk}/"
        assert lyon.post(moderate, {"decision": "validated"}, follow=True).status_code == 404
        note = f"/admin/{kind}_queue/note/{obj.pk}/"
        assert lyon.post(note, {"text": "x"}, follow=True).status_code == 404
        assert not Note.objects.filter(object_id=obj.pk).exists()
    listing = lyon.get("/admin/organisation_queue/results/", follow=True).text
    assert own_org.name in listing and paris_org.name not in listing
    paris_org.refresh_from_db()
    paris_mission.refresh_from_db()
    assert paris_org.status == paris_mission.status == SUBMITTED
    # The services say the same to any caller: not a moderator of this one.
    lyon_user = referent(demo["localhost"], "69")
    assert services.role_for(lyon_user, paris_org) is None
    with pytest.raises(PermissionDenied):
        services.move(paris_org, Organisation.Status.VALIDATED, lyon_user)
    with pytest.raises(PermissionDenied):
        mission_services.move_mission(paris_mission, Mission.Status.VALIDATED, lyon_user)
    # Their own: moderated.
    assert (
        lyon.post(
            f"/admin/organisation_queue/moderate/{own_org.pk}/", {"decision": "validated"}
        ).status_code
        == 302
    )
    own_org.refresh_from_db()
    assert own_org.status == Organisation.Status.VALIDATED


def test_a_referents_counts_are_their_departements(demo, places, rf):
    site = demo["localhost"]
    request = rf.get("/admin/")
    request.user = referent(site, "2A", "2B")
    counts = ModerationPanel(request).get_context_data()
    assert counts["organisations"] == counts["missions"] == 2
    request.user = make.moderator(site)
    whole = ModerationPanel(request).get_context_data()
    waiting = Mission.objects.filter(organisation__site=site, status__in=MissionQueue.waiting())
    assert whole["missions"] == waiting.count() >= 5


def test_only_a_portals_moderator_can_be_made_its_referent(demo):
    site, other = demo["localhost"], demo["covid19.localhost"]
    moderator, stranger = make.moderator(site), make.volunteer()
    form = ReferentForm({"user": moderator.pk, "site": other.pk, "departement": "69"})
    assert not form.is_valid() and "user" in form.errors
    form = ReferentForm({"user": stranger.pk, "site": site.pk, "departement": "69"})
    assert not form.is_valid() and "user" in form.errors  # not offered at all
    form = ReferentForm({"user": moderator.pk, "site": site.pk, "departement": "99"})
    assert not form.is_valid() and "departement" in form.errors
    form = ReferentForm({"user": moderator.pk, "site": site.pk, "departement": "2A"})
    assert form.is_valid(), form.errors
    form.save()
    assert scope.scopes(moderator) == {site.pk: {"2A"}}


def test_referents_are_managed_by_superusers_only(demo):
    site = demo["localhost"]
    moderator = make.moderator(site)
    assert client_for(moderator).get("/admin/referents/", follow=True).status_code == 403
    root = client_for(make.superuser())
    assert root.get("/admin/referents/").status_code == 200
    response = root.post(
        "/admin/referents/new/", {"user": moderator.pk, "site": site.pk, "departement": "69"}
    )
    assert response.status_code == 302
    assert Referent.objects.filter(user=moderator, site=site, departement="69").exists()


# --- The daily digest -------------------------------------------------------------------------


def test_the_daily_digest_counts_each_moderators_scope_once_a_day(demo, places):
    site = demo["localhost"]
    corsica = referent(site, "2A")
    whole = make.moderator(site)
    paris, paris_mission = places["75"]
    Organisation.objects.filter(pk=paris.pk).update(status=Organisation.Status.VALIDATED)
    Mission.objects.filter(pk=paris_mission.pk).update(status=Mission.Status.VALIDATED)
    stale = make.application(paris_mission)
    Application.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=11))
    make.application(paris_mission)  # recent: not in the digest
    Report.objects.create(mission=places["2A"][1], reason=Report.Reason.OTHER)
    assert digest.send() >= 2
    mails = OutboundEmail.objects.filter(template="moderator_digest", site=site)
    mine = mails.get(to_email=corsica.email).context
    assert mine["departements"] == ["2A"]
    assert (mine["organisations"], mine["missions"], mine["reports"]) == (1, 1, 1)
    assert mine["stale_applications"] == 0
    theirs = mails.get(to_email=whole.email).context
    assert theirs["organisations"] >= 4 and theirs["stale_applications"] == 1
    assert theirs["departements"] == []
    # A second run the same day queues nothing more; nobody with nothing waiting is emailed.
    before = mails.count()
    digest.send()
    assert mails.count() == before
    idle = referent(site, "48")
    digest.send()
    assert not mails.filter(to_email=idle.email).exists()
