"""Organisations, missions and applications: rules, state tables, API."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import User
from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Mission
from missions.states import APPLICATION, MISSION
from organisations.models import Membership, Organisation
from organisations.services import ensure_moderators_group, move
from organisations.states import ORGANISATION
from organisations.validators import validate_rna, validate_siret
from portal.workflow import TransitionNotAllowed

pytestmark = pytest.mark.django_db
H = {"HTTP_HOST": "localhost"}


# --- State tables ---------------------------------------------------------------------------

ORGANISATION_TABLE = [
    ("draft", "submitted", "manager", True),
    ("draft", "submitted", "moderator", False),
    ("draft", "validated", "manager", False),
    ("submitted", "validated", "moderator", True),
    ("submitted", "validated", "manager", False),
    ("submitted", "refused", "moderator", True),
    ("refused", "submitted", "manager", True),
    ("validated", "suspended", "moderator", True),
    ("validated", "suspended", "manager", False),
    ("suspended", "validated", "moderator", True),
]
MISSION_TABLE = [
    ("draft", "submitted", "manager", True),
    ("submitted", "validated", "moderator", True),
    ("submitted", "validated", "manager", False),
    ("draft", "validated", "moderator", False),
    ("validated", "closed", "system", True),
    ("validated", "closed", "volunteer", False),
    ("closed", "validated", "moderator", False),
    ("validated", "cancelled", "manager", True),
]
APPLICATION_TABLE = [
    ("pending", "accepted", "manager", True),
    ("pending", "accepted", "volunteer", False),
    ("pending", "refused", "manager", True),
    ("waitlisted", "pending", "system", True),
    ("waitlisted", "accepted", "manager", False),  # promotion goes through pending
    ("pending", "cancelled", "volunteer", True),
    ("pending", "cancelled", "manager", False),
    ("accepted", "done", "manager", True),
    ("refused", "accepted", "manager", False),
]


@pytest.mark.parametrize(
    "workflow, current, target, role, allowed",
    [(ORGANISATION, *row) for row in ORGANISATION_TABLE]
    + [(MISSION, *row) for row in MISSION_TABLE]
    + [(APPLICATION, *row) for row in APPLICATION_TABLE],
)
def test_state_tables(workflow, current, target, role, allowed):
    assert workflow.allowed(current, target, role) is allowed
    if not allowed:
        with pytest.raises(TransitionNotAllowed):
            workflow.check(current, target, role)


# --- Legal identifiers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "siret", ["73282932000074", "732 829 320 00074", "35600000000048", "35600000000010"]
)
def test_valid_sirets(siret):
    assert validate_siret(siret) == siret.replace(" ", "")


@pytest.mark.parametrize("siret", ["73282932000075", "1234", "7328293200007A", ""])
def test_invalid_sirets(siret):
    with pytest.raises(ValidationError):
        validate_siret(siret)


@pytest.mark.parametrize("rna, ok", [("W751234567", True), ("w691000123", True),
                                     ("W75123456", False), ("X751234567", False)])  # fmt: skip
def test_rna_format(rna, ok):
    if ok:
        assert validate_rna(rna) == rna.upper()
    else:
        with pytest.raises(ValidationError):
            validate_rna(rna)


def test_an_association_needs_a_legal_identifier(demo):
    organisation = Organisation(site=demo["localhost"], name="X", slug="x", type="association")
    with pytest.raises(ValidationError) as error:
        organisation.full_clean()
    assert "rna" in error.value.message_dict


# --- Missions and applications --------------------------------------------------------------


@pytest.fixture
def org(demo):
    return Organisation.objects.create(
        site=demo["localhost"], name="Restos du quartier", slug="restos-quartier",
        rna="W751234567", status=Organisation.Status.VALIDATED,
    )  # fmt: skip


@pytest.fixture
def manager(org):
    user = User.objects.create_user("manager@example.com", email_confirmed_at=timezone.now())
    Membership.objects.create(organisation=org, user=user)
    return user


def make_mission(org, demo, places=2, waiting_list=True, **fields):
    mission = Mission.objects.create(
        organisation=org, title="Distribution", slug=f"m-{Mission.objects.count()}",
        description="<p>Aider</p>", postal_code="75011", city="Paris", latitude=48.86,
        longitude=2.38, places=places, waiting_list=waiting_list,
        status=Mission.Status.VALIDATED, **fields,
    )  # fmt: skip
    mission.sites.add(demo["localhost"])
    return mission


def volunteer(n):
    return User.objects.create_user(f"v{n}@example.com", first_name=f"V{n}",
                                    email_confirmed_at=timezone.now())  # fmt: skip


def test_public_rules(org, demo):
    public = make_mission(org, demo)
    ended = make_mission(org, demo, end_date=timezone.localdate() - datetime.timedelta(days=1))
    draft = make_mission(org, demo, status_override=None) if False else make_mission(org, demo)
    draft.status = Mission.Status.DRAFT
    draft.save()
    full = make_mission(org, demo, places=1, waiting_list=False)
    services.apply(full.pk, volunteer(1))
    ids = set(Mission.objects.public(demo["localhost"]).values_list("pk", flat=True))
    assert public.pk in ids and ended.pk not in ids and draft.pk not in ids and full.pk not in ids
    assert not Mission.objects.public(demo["covid19.localhost"]).filter(pk=public.pk).exists()
    org.status = Organisation.Status.SUSPENDED
    org.save()
    assert not Mission.objects.public(demo["localhost"]).filter(pk=public.pk).exists()


def test_description_is_sanitized(org, demo):
    mission = make_mission(org, demo, places=1)
    mission.description = (
        '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">l</a></p>'
    )
    mission.save()
    mission.refresh_from_db()
    assert "script" not in mission.description and "onclick" not in mission.description
    assert "javascript:" not in mission.description


def test_capacity_waiting_list_and_promotion(org, demo, manager):
    mission = make_mission(org, demo, places=2)
    a, b, c, d = (volunteer(i) for i in range(4))
    statuses = [services.apply(mission.pk, v).status for v in (a, b, c, d)]
    assert statuses == ["pending", "pending", "waitlisted", "waitlisted"]
    with pytest.raises(services.ApplicationRefused) as dup:
        services.apply(mission.pk, a)
    assert dup.value.code == "duplicate"
    first = Application.objects.get(mission=mission, volunteer=a)
    services.cancel(first.pk, a, reason="Empêchement")
    promoted = Application.objects.get(mission=mission, volunteer=c)
    assert promoted.status == "pending"
    assert Application.objects.get(mission=mission, volunteer=d).status == "waitlisted"
    assert (
        OutboundEmail.objects.filter(idempotency_key=f"application-promoted:{promoted.pk}").count()
        == 1
    )
    refused = Application.objects.get(mission=mission, volunteer=b)
    services.decide(refused.pk, manager, accept=False, reason="profile", text="Prérequis")
    assert Application.objects.get(mission=mission, volunteer=d).status == "pending"
    assert mission.active_applications().count() == 2


def test_full_without_waiting_list_and_unconfirmed(org, demo):
    mission = make_mission(org, demo, places=1, waiting_list=False)
    services.apply(mission.pk, volunteer(1))
    with pytest.raises(services.ApplicationRefused) as full:
        services.apply(mission.pk, volunteer(2))
    assert full.value.code in ("full", "closed")
    unconfirmed = User.objects.create_user("u@example.com")
    with pytest.raises(services.ApplicationRefused) as error:
        services.apply(make_mission(org, demo).pk, unconfirmed)
    assert error.value.code == "unconfirmed"


def test_only_managers_decide(org, demo, manager):
    mission = make_mission(org, demo)
    application = services.apply(mission.pk, volunteer(1))
    stranger = volunteer(9)
    with pytest.raises(TransitionNotAllowed):
        services.decide(application.pk, stranger, accept=True)
    services.decide(application.pk, manager, accept=True)
    assert Application.objects.get(pk=application.pk).status == "accepted"


def test_emails_at_each_step(org, demo, manager):
    mission = make_mission(org, demo)
    application = services.apply(mission.pk, volunteer(1))
    services.decide(application.pk, manager, accept=True)
    keys = set(OutboundEmail.objects.values_list("idempotency_key", flat=True))
    assert f"application-received:{application.pk}" in keys
    assert f"application-manager:{application.pk}:{manager.pk}" in keys
    assert f"application-accepted:{application.pk}" in keys


def test_beat_tasks_close_remind_and_follow_up(org, demo, manager):
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    ended = make_mission(org, demo, end_date=today - datetime.timedelta(days=1))
    soon = make_mission(org, demo, start_date=tomorrow)
    application = services.apply(soon.pk, volunteer(1))
    services.decide(application.pk, manager, accept=True)
    assert services.close_ended(today) == 1
    assert Mission.objects.get(pk=ended.pk).status == "closed"
    assert services.remind(tomorrow) == 1
    services.remind(tomorrow)  # twice: still one email
    assert (
        OutboundEmail.objects.filter(idempotency_key__startswith="application-reminder").count()
        == 1
    )


def test_moderation_is_per_tenant(org, demo):
    moderator_b = User.objects.create_user("mod-b@example.com")
    moderator_b.groups.add(ensure_moderators_group(demo["covid19.localhost"]))
    org.status = Organisation.Status.SUBMITTED
    org.save()
    with pytest.raises(TransitionNotAllowed):
        move(org, Organisation.Status.VALIDATED, moderator_b)
    moderator_a = User.objects.create_user("mod-a@example.com")
    moderator_a.groups.add(ensure_moderators_group(demo["localhost"]))
    assert move(org, Organisation.Status.VALIDATED, moderator_a).status == "validated"


# --- API ------------------------------------------------------------------------------------


def test_api_lists_public_missions_of_this_portal(client, demo):
    response = client.get("/api/v1/missions", **H)
    assert response.status_code == 200
    body = response.json()
    titles = {m["title"] for m in body["results"]}
    assert "Trier les denrées collectées" in titles
    assert "Appeler les personnes âgées isolées" not in titles  # the other portal's
    assert body["count"] == len(body["results"])
    assert response["Cache-Control"].startswith("public")
    first = body["results"][0]
    assert {"places_left", "organisation", "latitude", "start_date"} <= set(first)
    detail = client.get(f"/api/v1/missions/{first['id']}", **H)
    assert detail.status_code == 200 and detail.json()["title"] == first["title"]


def test_api_hides_other_portals_and_non_public_missions(client, demo):
    other = Mission.objects.get(slug="appels-seniors-lille")
    assert client.get(f"/api/v1/missions/{other.pk}", **H).status_code == 404
    assert client.get("/api/v1/missions/999999", **H).status_code == 404
    assert client.get("/api/v1/missions?page=-1", **H).status_code == 400


def test_api_apply(demo):
    mission = Mission.objects.get(slug="tri-denrees-lyon")
    anonymous = Client(enforce_csrf_checks=True)
    anonymous_token = anonymous.get("/api/v1/csrf", **H).json()["csrfToken"]
    response = anonymous.post(
        f"/api/v1/missions/{mission.pk}/applications", {}, content_type="application/json",
        HTTP_X_CSRFTOKEN=anonymous_token, **H,
    )  # fmt: skip
    assert response.status_code == 401
    client = Client(enforce_csrf_checks=True)
    client.force_login(volunteer(1))
    token = client.get("/api/v1/csrf", **H).json()["csrfToken"]
    url = f"/api/v1/missions/{mission.pk}/applications"
    without_token = client.post(url, {"message": "Bonjour"}, content_type="application/json", **H)
    assert without_token.status_code == 403
    created = client.post(url, {"message": "Bonjour"}, content_type="application/json",
                          HTTP_X_CSRFTOKEN=token, **H)  # fmt: skip
    assert created.status_code == 201 and created.json()["status"] == "pending"
    again = client.post(url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token, **H)
    assert again.status_code == 409 and again.json()["error"] == "duplicate"
    bad = client.post(url, "{nope", content_type="application/json", HTTP_X_CSRFTOKEN=token, **H)
    assert bad.status_code == 400


def test_openapi_schema(client, demo):
    schema = client.get("/api/v1/schema", **H).json()
    assert "/api/v1/missions" in schema["paths"]
    assert "/api/v1/missions/{mission_id}/applications" in schema["paths"]


def test_api_bad_input_is_a_400(demo):
    mission = Mission.objects.get(slug="tri-denrees-lyon")
    client = Client()
    client.force_login(volunteer(7))
    url = f"/api/v1/missions/{mission.pk}/applications"
    long = client.post(url, {"message": "x" * 3000}, content_type="application/json", **H)
    assert long.status_code == 400 and long.json()["error"] == "invalid"
    assert client.get("/api/v1/missions?page=abc", **H).status_code == 400
    assert not Application.objects.filter(mission=mission).exists()


def test_attendance_after_the_mission(org, demo, manager):
    mission = make_mission(org, demo)
    application = services.apply(mission.pk, volunteer(1))
    with pytest.raises(TransitionNotAllowed):
        services.mark_attendance(application.pk, manager, happened=True)  # not accepted yet
    services.decide(application.pk, manager, accept=True)
    assert services.mark_attendance(application.pk, manager, happened=False).status == "no_show"
