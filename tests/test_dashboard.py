"""The associations' dashboard, the moderation queues, and who can see what."""

import io

import openpyxl
import pytest

from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Mission
from organisations.models import Invitation, Membership, Organisation
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo):
    """Two validated associations with a manager, a mission and an applicant each."""
    made = {}
    for key in ("a", "b"):
        org = make.organisation(demo["localhost"], name=f"Asso {key}")
        manager = make.manager(org)
        mission = make.mission(org, title=f"Mission {key}")
        volunteer = make.volunteer(f"volunteer-{key}@example.com", first_name=f"Vol{key}")
        application = make.application(mission, volunteer, "Bonjour")
        made[key] = {
            "org": org,
            "manager": manager,
            "mission": mission,
            "volunteer": volunteer,
            "application": application,
        }
    return made


def urls_of(w):
    org, mission = w["org"].pk, w["mission"].pk
    return [
        f"/fr/espace-association/{org}/",
        f"/fr/espace-association/{org}/equipe/",
        f"/fr/espace-association/{org}/missions/nouvelle/",
        f"/fr/espace-association/{org}/missions/{mission}/",
        f"/fr/espace-association/{org}/missions/{mission}/candidatures/",
        f"/fr/espace-association/{org}/missions/{mission}/candidatures.csv",
        f"/fr/espace-association/{org}/missions/{mission}/candidatures.xlsx",
    ]


def test_manager_of_a_gets_404_on_everything_of_b(world):
    client = client_for(world["a"]["manager"])
    for url in urls_of(world["a"]):
        assert client.get(url).status_code == 200, url
    for url in urls_of(world["b"]):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"action": "accept"}).status_code == 404, url
    b_app = world["b"]["application"]
    # Mixing A's mission with B's application ids changes nothing.
    client.post(urls_of(world["a"])[4], {"action": "accept", "applications": [b_app.pk]})
    assert Application.objects.get(pk=b_app.pk).status == "pending"


def test_dashboard_pages_are_private_and_need_sign_in(world):
    assert client_for().get(urls_of(world["a"])[0]).status_code == 302
    response = client_for(world["a"]["manager"]).get(urls_of(world["a"])[0])
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert 'data-counter="pending">1<' in response.text


def test_bulk_accept_and_refuse(world):
    w = world["a"]
    others = [make.volunteer(f"x{i}@example.com") for i in range(2)]
    apps = [services.apply(w["mission"].pk, v) for v in others]
    client = client_for(w["manager"])
    url = urls_of(w)[4]
    client.post(url, {"action": "accept", "applications": [w["application"].pk, apps[0].pk]})
    client.post(
        url,
        {
            "action": "refuse",
            "applications": [apps[1].pk],
            "reason": "profile",
            "text": "Prérequis",
        },
    )
    statuses = dict(Application.objects.filter(mission=w["mission"]).values_list("pk", "status"))
    assert statuses[w["application"].pk] == "accepted" and statuses[apps[0].pk] == "accepted"
    assert statuses[apps[1].pk] == "refused"
    filtered = client.get(url + "?status=refused").text
    assert "x1@example.com" in filtered and "x0@example.com" not in filtered
    assert "x0@example.com" in client.get(url + "?q=x0").text


def test_exports(world):
    client = client_for(world["a"]["manager"])
    csv = client.get(urls_of(world["a"])[5])
    assert csv["Content-Type"].startswith("text/csv")
    assert "volunteer-a@example.com" in csv.content.decode()
    assert "volunteer-b@example.com" not in csv.content.decode()
    xlsx = client.get(urls_of(world["a"])[6])
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=2, column=3).value == "volunteer-a@example.com"


def test_mission_editor_validates_and_submits(world):
    w = world["a"]
    client = client_for(w["manager"])
    url = urls_of(w)[2]
    bad = client.post(
        url,
        {
            "title": "T",
            "description": "x" * 20000,
            "places": -1,
            "audience": "all",
            "start_date": "2000-01-01",
            "minimum_age": 16,
        },
    )
    assert bad.status_code == 400
    assert Mission.objects.filter(organisation=w["org"]).count() == 1
    html = "<p>Aller vers</p><script>x</script>"
    good = client.post(
        url,
        {
            "title": "Maraude",
            "description": html,
            "audience": "all",
            "places": 4,
            "postal_code": "75011",
            "city": "Paris",
            "minimum_age": 18,
            "waiting_list": "on",
            "sites": [world["a"]["org"].site.pk],
            "submit": "1",
        },
    )
    assert good.status_code == 302
    mission = Mission.objects.get(title="Maraude")
    assert mission.status == "submitted" and "script" not in mission.description
    assert mission.sites.filter(hostname="localhost").exists()


def test_invitations(world, django_user_model):
    w = world["a"]
    client = client_for(w["manager"])
    client.post(f"/fr/espace-association/{w['org'].pk}/equipe/", {"email": "new@example.com"})
    invitation = Invitation.objects.get(email="new@example.com")
    assert OutboundEmail.objects.filter(idempotency_key=f"invitation:{invitation.pk}").exists()
    newcomer = make.volunteer("new@example.com")
    joined = client_for(newcomer).post(
        f"/fr/espace-association/invitation/{invitation.token}/",
    )
    assert joined.status_code == 302
    assert Membership.objects.filter(organisation=w["org"], user=newcomer).exists()
    again = client_for(make.volunteer()).post(
        f"/fr/espace-association/invitation/{invitation.token}/",
    )
    assert again.status_code == 400  # used


def test_volunteers_see_only_their_applications(world):
    client = client_for(world["a"]["volunteer"])
    page = client.get("/fr/espace/candidatures/").text
    assert "Mission a" in page and "Mission b" not in page
    response = client.post(
        "/fr/espace/candidatures/",
        {"application": world["b"]["application"].pk},
    )
    assert response.status_code == 404
    assert Application.objects.get(pk=world["b"]["application"].pk).status == "pending"
    client.post("/fr/espace/candidatures/", {"application": world["a"]["application"].pk})
    assert Application.objects.get(pk=world["a"]["application"].pk).status == "cancelled"


def test_moderators_act_on_their_tenant_only(world, demo):
    submitted = make.organisation(
        demo["covid19.localhost"], Organisation.Status.SUBMITTED, name="Covid asso"
    )
    client = client_for(make.moderator(demo["localhost"]))
    listing = client.get("/admin/organisation_queue/", follow=True)
    assert listing.status_code == 200
    assert "Asso a" in listing.text and "Covid asso" not in listing.text
    url = f"/admin/organisation_queue/moderate/{submitted.pk}/"
    assert client.get(url, follow=True).status_code == 404
    client.post(url, {"decision": "validated"})
    assert Organisation.objects.get(pk=submitted.pk).status == "submitted"
    client_b = client_for(make.moderator(demo["covid19.localhost"]))
    refused = client_b.post(url, {"decision": "refused", "reason": ""})
    assert refused.status_code == 400  # a refusal needs its reason
    done = client_b.post(url, {"decision": "refused", "reason": "RNA introuvable"})
    assert done.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "refused" and submitted.refusal_reason == "RNA introuvable"
    home = client_b.get("/admin/", follow=True)
    assert "Moderation" in home.text or "Modération" in home.text
