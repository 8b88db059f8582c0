"""Visitors report missions from the (cached) mission page; moderators of the mission's
portal and département suspend it in one click, and its team is told why."""

import pytest
from django.test import override_settings
from django.utils import translation

from emails.models import OutboundEmail
from missions import services as mission_services
from missions.models import Mission
from moderation import history, reports
from moderation.models import Report, StateChange
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db

ORIGIN = {"HTTP_ORIGIN": "http://localhost"}


@pytest.fixture
def mission(org, manager):
    return make.mission(org, title="Collecte de jouets")


def report_url(mission):
    return f"/fr/missions/{mission.pk}/signaler/"


def test_a_visitor_reports_from_the_cached_page_without_a_token_or_a_session(mission):
    client = client_for(enforce_csrf_checks=True)
    page = client.get(mission.get_absolute_url())
    assert 'name="csrfmiddlewaretoken"' not in page.text
    assert f'action="{report_url(mission)}"' in page.text and 'name="reason"' in page.text
    assert "Set-Cookie" not in page.headers
    sent = client.post(
        report_url(mission), {"reason": "misleading", "message": " Adresse fausse "}, **ORIGIN
    )
    assert sent.status_code == 302 and sent["Location"].endswith("?sent=1")
    assert "sessionid" not in sent.cookies
    report = Report.objects.get(mission=mission)
    assert (report.reason, report.message, report.status) == (
        "misleading",
        "Adresse fausse",
        "open",
    )
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200 and "no-store" in thanks["Cache-Control"]


def test_a_cross_site_post_or_bad_input_is_refused_and_saves_nothing(mission):
    client = client_for(enforce_csrf_checks=True)
    forged = client.post(
        report_url(mission), {"reason": "other"}, HTTP_ORIGIN="https://evil.example"
    )
    assert forged.status_code == 403
    for data in ({}, {"reason": "nonsense"}, {"reason": "other", "message": "x" * 2001}):
        refused = client.post(report_url(mission), data, **ORIGIN)
        assert refused.status_code == 400 and "fr-error-text" in refused.text
    # Without the page's JavaScript or Origin: the report page has its own form and token.
    form = client_for().get(report_url(mission))
    assert form.status_code == 200 and 'name="csrfmiddlewaretoken"' in form.text
    assert not Report.objects.exists()


def test_only_a_public_mission_of_this_portal_can_be_reported(demo, org):
    draft = make.mission(org, Mission.Status.DRAFT)
    elsewhere = make.mission(make.organisation(demo["covid19.localhost"]))
    client = client_for()
    for mission in (draft, elsewhere):
        assert client.post(report_url(mission), {"reason": "other"}, **ORIGIN).status_code == 404
    assert client.post("/fr/missions/999999/signaler/", {"reason": "other"}).status_code == 404
    assert not Report.objects.exists()


@override_settings(MISSION_REPORT_RATE_PER_MISSION_IP="2/d", MISSION_REPORT_RATE_PER_IP="4/h")
def test_reports_are_rate_limited_per_ip_and_per_mission(org, mission):
    client = client_for()
    post = lambda m: client.post(report_url(m), {"reason": "other"}, **ORIGIN)  # noqa: E731
    assert [post(mission).status_code for _ in range(3)] == [302, 302, 429]
    other = make.mission(org)
    assert post(other).status_code == 302  # the IP's fourth attempt
    limited = post(make.mission(org))
    assert limited.status_code == 429 and limited["Retry-After"]
    assert "Too many attempts" in limited.text or "Trop de tentatives" in limited.text
    assert Report.objects.count() == 3
    # Another visitor is not limited by the first one's reports.
    assert (
        client_for()
        .post(report_url(other), {"reason": "other"}, REMOTE_ADDR="10.0.0.9", **ORIGIN)
        .status_code
        == 302
    )


def test_a_moderator_suspends_a_reported_mission_in_one_click_and_the_team_is_told(
    demo, org, manager, mission
):
    first = reports.report(mission, Report.Reason.NOT_VOLUNTEERING, "C'est un emploi payé")
    second = reports.report(mission, Report.Reason.OTHER)
    moderator = make.moderator(demo["localhost"])
    client = client_for(moderator)
    listing = client.get("/admin/report_queue/results/", follow=True).text
    assert "Collecte de jouets" in listing
    page = client.get(f"/admin/report_queue/inspect/{first.pk}/")
    assert page.status_code == 200 and "C&#x27;est un emploi payé" in page.text
    response = client.post(f"/admin/report_queue/suspend/{first.pk}/", {"message": ""})
    assert response.status_code == 302
    mission.refresh_from_db()
    assert mission.status == Mission.Status.SUSPENDED
    assert not Mission.objects.public(demo["localhost"]).filter(pk=mission.pk).exists()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == Report.Status.SUSPENDED
    assert first.handled_by == moderator
    email = OutboundEmail.objects.get(template="moderation", to_email=manager.email)
    assert email.context["decision"] == "suspended"
    with translation.override("fr"):  # the association reads the reason in French
        assert email.context["reason"] == str(Report.Reason.NOT_VOLUNTEERING.label)
    change = StateChange.objects.get(object_id=mission.pk, to_status="suspended")
    assert change.actor == moderator and change.from_status == "validated"
    # A second click: nothing more happens, no second email.
    client.post(f"/admin/report_queue/suspend/{second.pk}/", {"message": ""})
    assert OutboundEmail.objects.filter(template="moderation").count() == 1
    # The team corrects it and submits it again; a moderator puts it back online.
    assert client_for(manager).get(f"/fr/espace-association/{org.pk}/").status_code == 200
    mission.title = "Collecte de jouets (bénévole)"
    mission_services.save_mission(mission, org, manager, changed=["title"], submit=True)
    mission.refresh_from_db()
    assert mission.status == Mission.Status.SUBMITTED
    mission_services.move_mission(mission, Mission.Status.VALIDATED, moderator)
    assert Mission.objects.public(demo["localhost"]).filter(pk=mission.pk).exists()
    assert [c.to_status for c in history.history(mission)][:2] == ["validated", "submitted"]


def test_a_moderators_own_words_reach_the_team_and_dismissing_keeps_the_mission(
    demo, manager, mission
):
    report = reports.report(mission, Report.Reason.DANGEROUS)
    client = client_for(make.moderator(demo["localhost"]))
    client.post(f"/admin/report_queue/dismiss/{report.pk}/")
    report.refresh_from_db()
    mission.refresh_from_db()
    assert report.status == Report.Status.DISMISSED and mission.status == "validated"
    again = reports.report(mission, Report.Reason.DANGEROUS)
    client.post(f"/admin/report_queue/suspend/{again.pk}/", {"message": "Travail en hauteur"})
    email = OutboundEmail.objects.get(template="moderation", to_email=manager.email)
    assert email.context["reason"] == "Travail en hauteur"


def test_reports_are_scoped_to_the_moderators_portal_and_departements(demo, org, mission):
    report = reports.report(mission, Report.Reason.OTHER)  # a Paris mission (75)
    elsewhere = make.mission(make.organisation(demo["covid19.localhost"]))
    foreign = reports.report(elsewhere, Report.Reason.OTHER)
    lyon = make.moderator(demo["localhost"])
    lyon.referent_of.create(site=demo["localhost"], departement="69")
    for user in (lyon, make.moderator(demo["covid19.localhost"])):
        client = client_for(user)
        assert (
            "Collecte de jouets" not in client.get("/admin/report_queue/results/", follow=True).text
        )
        for view in ("inspect", "suspend", "dismiss"):
            url = f"/admin/report_queue/{view}/{report.pk}/"
            assert client.get(url, follow=True).status_code == 404
        assert (
            client.post(f"/admin/report_queue/suspend/{report.pk}/", follow=True).status_code == 404
        )
    paris = client_for(make.moderator(demo["localhost"]))
    assert paris.get(f"/admin/report_queue/inspect/{foreign.pk}/", follow=True).status_code == 404
    mission.refresh_from_db()
    report.refresh_from_db()
    assert mission.status == "validated" and report.status == "open"
