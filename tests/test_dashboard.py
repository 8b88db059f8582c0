"""The associations' dashboard, the moderation queues, and who can see what."""

import io

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Mission
from organisations.models import Invitation, Membership, Organisation
from organisations.services import ensure_moderators_group

pytestmark = pytest.mark.django_db
H = {"HTTP_HOST": "localhost"}


def confirmed(email, **fields):
    return User.objects.create_user(email, email_confirmed_at=timezone.now(), **fields)


@pytest.fixture
def world(demo):
    """Two validated associations with a manager, a mission and an applicant each."""
    made = {}
    for key, host in (("a", "localhost"), ("b", "localhost")):
        org = Organisation.objects.create(
            site=demo[host], name=f"Asso {key}", slug=f"asso-{key}", rna="W751234567",
            status=Organisation.Status.VALIDATED,
        )  # fmt: skip
        manager = confirmed(f"manager-{key}@example.com")
        Membership.objects.create(organisation=org, user=manager)
        mission = Mission.objects.create(
            organisation=org, title=f"Mission {key}", slug=f"mission-{key}", description="x",
            postal_code="75011", city="Paris", latitude=48.8, longitude=2.3, places=3,
            status=Mission.Status.VALIDATED,
        )  # fmt: skip
        mission.sites.add(demo[host])
        volunteer = confirmed(f"volunteer-{key}@example.com", first_name=f"Vol{key}")
        application = services.apply(mission.pk, volunteer, "Bonjour")
        made[key] = {"org": org, "manager": manager, "mission": mission,
                     "volunteer": volunteer, "application": application}  # fmt: skip
    return made


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


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
        assert client.get(url, **H).status_code == 200, url
    for url in urls_of(world["b"]):
        assert client.get(url, **H).status_code == 404, url
        assert client.post(url, {"action": "accept"}, **H).status_code == 404, url
    b_app = world["b"]["application"]
    # Mixing A's mission with B's application ids changes nothing.
    client.post(urls_of(world["a"])[4], {"action": "accept", "applications": [b_app.pk]}, **H)
    assert Application.objects.get(pk=b_app.pk).status == "pending"


def test_dashboard_pages_are_private_and_need_sign_in(world):
    assert Client().get(urls_of(world["a"])[0], **H).status_code == 302
    response = client_for(world["a"]["manager"]).get(urls_of(world["a"])[0], **H)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert 'data-counter="pending">1<' in response.text


def test_bulk_accept_and_refuse(world):
    w = world["a"]
    others = [confirmed(f"x{i}@example.com") for i in range(2)]
    apps = [services.apply(w["mission"].pk, v) for v in others]
    client = client_for(w["manager"])
    url = urls_of(w)[4]
    client.post(url, {"action": "accept", "applications": [w["application"].pk, apps[0].pk]}, **H)
    client.post(url, {"action": "refuse", "applications": [apps[1].pk], "reason": "profile",
                      "text": "Prérequis"}, **H)  # fmt: skip
    statuses = dict(Application.objects.filter(mission=w["mission"]).values_list("pk", "status"))
    assert statuses[w["application"].pk] == "accepted" and statuses[apps[0].pk] == "accepted"
    assert statuses[apps[1].pk] == "refused"
    filtered = client.get(url + "?status=refused", **H).text
    assert "x1@example.com" in filtered and "x0@example.com" not in filtered
    assert "x0@example.com" in client.get(url + "?q=x0", **H).text


def test_exports(world):
    client = client_for(world["a"]["manager"])
    csv = client.get(urls_of(world["a"])[5], **H)
    assert csv["Content-Type"].startswith("text/csv")
    assert "volunteer-a@example.com" in csv.content.decode()
    assert "volunteer-b@example.com" not in csv.content.decode()
    xlsx = client.get(urls_of(world["a"])[6], **H)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=2, column=3).value == "volunteer-a@example.com"


def test_mission_editor_validates_and_submits(world):
    w = world["a"]
    client = client_for(w["manager"])
    url = urls_of(w)[2]
    bad = client.post(url, {"title": "T", "description": "x" * 20000, "places": -1,
                            "audience": "all", "start_date": "2000-01-01",
                            "minimum_age": 16}, **H)  # fmt: skip
    assert bad.status_code == 400
    assert Mission.objects.filter(organisation=w["org"]).count() == 1
    html = "<p>Aller vers</p><script>x</script>"
    good = client.post(url, {"title": "Maraude", "description": html,
                             "audience": "all", "places": 4, "postal_code": "75011",
                             "city": "Paris", "minimum_age": 18, "waiting_list": "on",
                             "sites": [world["a"]["org"].site.pk],
                             "submit": "1"}, **H)  # fmt: skip
    assert good.status_code == 302
    mission = Mission.objects.get(title="Maraude")
    assert mission.status == "submitted" and "script" not in mission.description
    assert mission.sites.filter(hostname="localhost").exists()


def test_invitations(world, django_user_model):
    w = world["a"]
    client = client_for(w["manager"])
    client.post(f"/fr/espace-association/{w['org'].pk}/equipe/", {"email": "new@example.com"}, **H)
    invitation = Invitation.objects.get(email="new@example.com")
    assert OutboundEmail.objects.filter(idempotency_key=f"invitation:{invitation.pk}").exists()
    newcomer = confirmed("new@example.com")
    joined = client_for(newcomer).post(
        f"/fr/espace-association/invitation/{invitation.token}/", **H
    )
    assert joined.status_code == 302
    assert Membership.objects.filter(organisation=w["org"], user=newcomer).exists()
    again = client_for(confirmed("late@example.com")).post(
        f"/fr/espace-association/invitation/{invitation.token}/", **H
    )
    assert again.status_code == 400  # used


def test_volunteers_see_only_their_applications(world):
    client = client_for(world["a"]["volunteer"])
    page = client.get("/fr/espace/candidatures/", **H).text
    assert "Mission a" in page and "Mission b" not in page
    response = client.post(
        "/fr/espace/candidatures/", {"application": world["b"]["application"].pk}, **H
    )
    assert response.status_code == 404
    assert Application.objects.get(pk=world["b"]["application"].pk).status == "pending"
    client.post("/fr/espace/candidatures/", {"application": world["a"]["application"].pk}, **H)
    assert Application.objects.get(pk=world["a"]["application"].pk).status == "cancelled"


def test_moderators_act_on_their_tenant_only(world, demo):
    submitted = Organisation.objects.create(
        site=demo["covid19.localhost"], name="Covid asso", slug="covid-asso",
        rna="W591234567", status=Organisation.Status.SUBMITTED,
    )  # fmt: skip
    moderator_a = User.objects.create_user("mod@localhost")
    moderator_a.groups.add(ensure_moderators_group(demo["localhost"]))
    client = client_for(moderator_a)
    listing = client.get("/admin/organisation_queue/", HTTP_HOST="localhost", follow=True)
    assert listing.status_code == 200
    assert "Asso a" in listing.text and "Covid asso" not in listing.text
    url = f"/admin/organisation_queue/moderate/{submitted.pk}/"
    assert client.get(url, HTTP_HOST="localhost", follow=True).status_code == 404
    client.post(url, {"decision": "validated"}, HTTP_HOST="localhost")
    assert Organisation.objects.get(pk=submitted.pk).status == "submitted"
    moderator_b = User.objects.create_user("mod@covid19")
    moderator_b.groups.add(ensure_moderators_group(demo["covid19.localhost"]))
    client_b = client_for(moderator_b)
    refused = client_b.post(url, {"decision": "refused", "reason": ""}, HTTP_HOST="localhost")
    assert refused.status_code == 400  # a refusal needs its reason
    done = client_b.post(url, {"decision": "refused", "reason": "RNA introuvable"},
                         HTTP_HOST="localhost")  # fmt: skip
    assert done.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "refused" and submitted.refusal_reason == "RNA introuvable"
    home = client_b.get("/admin/", HTTP_HOST="localhost", follow=True)
    assert "Moderation" in home.text or "Modération" in home.text
