"""Organisations, missions and applications: rules, state tables, API."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Mission
from missions.states import APPLICATION, MISSION
from organisations.models import Organisation
from organisations.services import move
from organisations.states import ORGANISATION
from organisations.validators import validate_rna, validate_siret
from portal.workflow import TransitionNotAllowed
from tests import factories as make

pytestmark = pytest.mark.django_db


# --- State tables ---------------------------------------------------------------------------

STATE_TABLE = [  # workflow, current state, target, role, allowed
    (ORGANISATION, "draft", "submitted", "manager", True),
    (ORGANISATION, "draft", "submitted", "moderator", False),
    (ORGANISATION, "draft", "validated", "manager", False),
    (ORGANISATION, "submitted", "validated", "moderator", True),
    (ORGANISATION, "submitted", "validated", "manager", False),
    (ORGANISATION, "submitted", "refused", "moderator", True),
    (ORGANISATION, "refused", "submitted", "manager", True),
    (ORGANISATION, "validated", "suspended", "moderator", True),
    (ORGANISATION, "validated", "suspended", "manager", False),
    (ORGANISATION, "suspended", "validated", "moderator", True),
    (MISSION, "draft", "submitted", "manager", True),
    (MISSION, "submitted", "validated", "moderator", True),
    (MISSION, "submitted", "validated", "manager", False),
    (MISSION, "draft", "validated", "moderator", False),
    (MISSION, "validated", "closed", "system", True),
    (MISSION, "validated", "closed", "volunteer", False),
    (MISSION, "closed", "validated", "moderator", False),
    (MISSION, "validated", "cancelled", "manager", True),
    (APPLICATION, "pending", "accepted", "manager", True),
    (APPLICATION, "pending", "accepted", "volunteer", False),
    (APPLICATION, "pending", "refused", "manager", True),
    (APPLICATION, "waitlisted", "pending", "system", True),
    (APPLICATION, "waitlisted", "accepted", "manager", False),  # promotion goes through pending
    (APPLICATION, "pending", "cancelled", "volunteer", True),
    (APPLICATION, "pending", "cancelled", "manager", False),
    (APPLICATION, "accepted", "done", "manager", True),
    (APPLICATION, "refused", "accepted", "manager", False),
]


@pytest.mark.parametrize("workflow, current, target, role, allowed", STATE_TABLE)
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


@pytest.mark.parametrize(
    "rna, ok",
    [("W751234567", True), ("w691000123", True), ("W75123456", False), ("X751234567", False)],
)
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
    return make.organisation(demo["localhost"])


@pytest.fixture
def manager(org):
    return make.manager(org)


def test_public_rules(org, demo):
    public = make.mission(org)
    ended = make.mission(org, end_date=timezone.localdate() - datetime.timedelta(days=1))
    draft = make.mission(org, status=Mission.Status.DRAFT)
    full = make.mission(org, places=1, waiting_list=False)
    make.application(full)
    ids = set(Mission.objects.public(demo["localhost"]).values_list("pk", flat=True))
    assert public.pk in ids and ended.pk not in ids and draft.pk not in ids and full.pk not in ids
    assert not Mission.objects.public(demo["covid19.localhost"]).filter(pk=public.pk).exists()
    org.status = Organisation.Status.SUSPENDED
    org.save()
    assert not Mission.objects.public(demo["localhost"]).filter(pk=public.pk).exists()


def test_description_is_sanitized(org, demo):
    mission = make.mission(org)
    mission.description = (
        '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">l</a></p>'
    )
    mission.save()
    mission.refresh_from_db()
    assert "script" not in mission.description and "onclick" not in mission.description
    assert "javascript:" not in mission.description


def test_capacity_waiting_list_and_promotion(org, demo, manager):
    mission = make.mission(org, places=2)
    a, b, c, d = (make.volunteer() for _ in range(4))
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
    mission = make.mission(org, places=1, waiting_list=False)
    make.application(mission)
    with pytest.raises(services.ApplicationRefused) as full:
        services.apply(mission.pk, make.volunteer())
    assert full.value.code in ("full", "closed")
    unconfirmed = make.user()
    with pytest.raises(services.ApplicationRefused) as error:
        services.apply(make.mission(org).pk, unconfirmed)
    assert error.value.code == "unconfirmed"


def test_only_managers_decide(org, demo, manager):
    application = make.application(make.mission(org))
    stranger = make.volunteer()
    with pytest.raises(TransitionNotAllowed):
        services.decide(application.pk, stranger, accept=True)
    services.decide(application.pk, manager, accept=True)
    assert Application.objects.get(pk=application.pk).status == "accepted"


def test_emails_at_each_step(org, demo, manager):
    application = make.application(make.mission(org))
    services.decide(application.pk, manager, accept=True)
    keys = set(OutboundEmail.objects.values_list("idempotency_key", flat=True))
    assert f"application-received:{application.pk}" in keys
    assert f"application-manager:{application.pk}:{manager.pk}" in keys
    assert f"application-accepted:{application.pk}" in keys


def test_beat_tasks_close_remind_and_follow_up(org, demo, manager):
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    ended = make.mission(org, end_date=today - datetime.timedelta(days=1))
    application = make.application(make.mission(org, start_date=tomorrow))
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
    moderator_b = make.moderator(demo["covid19.localhost"])
    org.status = Organisation.Status.SUBMITTED
    org.save()
    with pytest.raises(TransitionNotAllowed):
        move(org, Organisation.Status.VALIDATED, moderator_b)
    moderator_a = make.moderator(demo["localhost"])
    assert move(org, Organisation.Status.VALIDATED, moderator_a).status == "validated"


# --- API ------------------------------------------------------------------------------------


def test_api_lists_public_missions_of_this_portal(client, demo):
    response = client.get("/api/v1/missions")
    assert response.status_code == 200
    body = response.json()
    titles = {m["title"] for m in body["results"]}
    assert "Trier les denrées collectées" in titles
    assert "Appeler les personnes âgées isolées" not in titles  # the other portal's
    assert body["count"] == len(body["results"])
    assert response["Cache-Control"].startswith("public")
    first = body["results"][0]
    assert {"places_left", "organisation", "latitude", "start_date"} <= set(first)
    detail = client.get(f"/api/v1/missions/{first['id']}")
    assert detail.status_code == 200 and detail.json()["title"] == first["title"]


def test_api_hides_other_portals_and_non_public_missions(client, demo):
    other = Mission.objects.get(slug="appels-seniors-lille")
    assert client.get(f"/api/v1/missions/{other.pk}").status_code == 404
    assert client.get("/api/v1/missions/999999").status_code == 404
    assert client.get("/api/v1/missions?page=-1").status_code == 400


def test_api_apply(demo):
    mission = Mission.objects.get(slug="tri-denrees-lyon")
    anonymous = make.client_for(enforce_csrf_checks=True)
    anonymous_token = anonymous.get("/api/v1/csrf").json()["csrfToken"]
    response = anonymous.post(
        f"/api/v1/missions/{mission.pk}/applications",
        {},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=anonymous_token,
    )
    assert response.status_code == 401
    client = make.client_for(make.volunteer(), enforce_csrf_checks=True)
    token = client.get("/api/v1/csrf").json()["csrfToken"]
    url = f"/api/v1/missions/{mission.pk}/applications"
    without_token = client.post(url, {"message": "Bonjour"}, content_type="application/json")
    assert without_token.status_code == 403
    created = client.post(
        url, {"message": "Bonjour"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"
    again = client.post(url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert again.status_code == 409 and again.json()["error"] == "duplicate"
    bad = client.post(url, "{nope", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert bad.status_code == 400


def test_openapi_schema(client, demo):
    schema = client.get("/api/v1/schema").json()
    assert "/api/v1/missions" in schema["paths"]
    assert "/api/v1/missions/{mission_id}/applications" in schema["paths"]


def test_api_bad_input_is_a_400(demo):
    mission = Mission.objects.get(slug="tri-denrees-lyon")
    client = make.client_for(make.volunteer())
    url = f"/api/v1/missions/{mission.pk}/applications"
    long = client.post(url, {"message": "x" * 3000}, content_type="application/json")
    assert long.status_code == 400 and long.json()["error"] == "invalid"
    assert client.get("/api/v1/missions?page=abc").status_code == 400
    assert not Application.objects.filter(mission=mission).exists()


def test_attendance_after_the_mission(org, demo, manager):
    application = make.application(make.mission(org))
    with pytest.raises(TransitionNotAllowed):
        services.mark_attendance(application.pk, manager, happened=True)  # not accepted yet
    services.decide(application.pk, manager, accept=True)
    assert services.mark_attendance(application.pk, manager, happened=False).status == "no_show"
