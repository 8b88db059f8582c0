"""The associations' daily digest (missions.reminders), and the dashboards in degraded mode."""

from datetime import timedelta

import pytest
from django.utils import timezone

from emails.models import OutboundEmail
from missions import reminders
from missions.models import Application, Mission
from tenants.switches import apply
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.now() - timedelta(days=n)


def test_the_team_digest_lists_what_waits_and_is_sent_once_a_day(demo, org, manager):
    today = timezone.localdate()
    waiting = make.mission(org, title="Maraude")
    old = make.application(waiting)
    Application.objects.filter(pk=old.pk).update(created_at=days_ago(3))
    make.application(waiting)  # today's: tomorrow's digest
    answered = make.application(make.mission(org, title="Collecte"))
    Application.objects.filter(pk=answered.pk).update(
        status=Application.Status.ACCEPTED, created_at=days_ago(5)
    )
    ended = make.mission(org, title="Fête de quartier")
    Mission.objects.filter(pk=ended.pk).update(end_date=today - timedelta(days=2))
    week_old = make.mission(org, Mission.Status.DRAFT, title="Brouillon oublié")
    Mission.objects.filter(pk=week_old.pk).update(created_at=days_ago(7))
    fresh = make.mission(org, Mission.Status.DRAFT, title="Brouillon du jour")
    assert fresh.status == "draft"
    second = make.manager(org)
    assert reminders.send(today) >= 1
    mails = OutboundEmail.objects.filter(template="team_digest", context__organisation=org.name)
    assert set(mails.values_list("to_email", flat=True)) == {manager.email, second.email}
    context = mails.first().context
    assert [(m["title"], m["pending"], m["days"]) for m in context["waiting"]] == [
        ("Maraude", 1, 3)
    ]
    assert context["waiting"][0]["path"].endswith(
        f"/missions/{waiting.pk}/candidatures/?status=pending"
    )
    assert [m["title"] for m in context["ended"]] == ["Fête de quartier"]
    assert [m["title"] for m in context["drafts"]] == ["Brouillon oublié"]
    # Again the same day: nothing more. The next day: a new digest.
    reminders.send(today)
    assert mails.count() == 2
    reminders.send(today + timedelta(days=1))
    assert mails.count() == 4


def test_an_organisation_with_nothing_waiting_gets_no_digest(demo, org, manager):
    make.mission(org)
    make.application(make.mission(org))  # today's
    reminders.send(timezone.localdate())
    assert not OutboundEmail.objects.filter(template="team_digest", to_email=manager.email)


def test_dashboards_turn_their_heavy_views_off_in_degraded_mode(demo, org, manager):
    mission = make.mission(org)
    make.application(mission)
    client = client_for(manager)
    dashboard = f"/fr/espace-association/{org.pk}/"
    export = f"/fr/espace-association/{org.pk}/missions/{mission.pk}/candidatures.csv"
    applicants = f"/fr/espace-association/{org.pk}/missions/{mission.pk}/candidatures/"
    assert 'data-counter="pending"' in client.get(dashboard).text
    assert client.get(export).status_code == 200
    apply(demo["localhost"], degraded_mode=True)
    page = client.get(dashboard)
    assert page.status_code == 200 and 'data-counter="pending"' not in page.text
    assert "fr-alert--info" in page.text and mission.title in page.text
    refused = client.get(export)
    assert refused.status_code == 503 and refused["Retry-After"]
    assert "text/html" in refused["Content-Type"]
    listing = client.get(applicants)
    assert listing.status_code == 200 and "candidatures.csv" not in listing.text
    # Deciding on applications still works.
    assert client.get(f"/fr/espace-association/{org.pk}/equipe/").status_code == 200
    apply(demo["localhost"], degraded_mode=False)
