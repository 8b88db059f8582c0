"""The staff dashboards: per-day counts over 30 days per portal (a referent's départements
only), the outbox's backlog and failures, drawn as SVG charts in the admin's home page."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from dashboards import charts, figures
from emails.models import OutboundEmail
from missions.models import Application
from moderation.models import Referent
from tests import factories as make

pytestmark = pytest.mark.django_db


def by_name(series):
    return {s.name: s for s in series}


def on(day_offset: int):
    """The local midnight starting the day `day_offset` days ago."""
    day = timezone.localdate() - timedelta(days=day_offset)
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))


def sign_up(site, days_ago, postal_code="", confirmed=True):
    person = make.user(signup_site=site, postal_code=postal_code)
    moment = on(days_ago) + timedelta(hours=12)
    User.objects.filter(pk=person.pk).update(
        date_joined=moment, email_confirmed_at=moment if confirmed else None
    )
    return person


def email(site, status, days_ago=0, n=1):
    for _i in range(n):
        row = OutboundEmail.objects.create(
            site=site,
            to_email="x@example.org",
            template="welcome",
            idempotency_key=f"k-{make._number()}",
            status=status,
            sent_at=on(days_ago) + timedelta(hours=12) if status == "sent" else None,
        )
        OutboundEmail.objects.filter(pk=row.pk).update(created_at=on(days_ago))


def test_counts_per_day_over_30_days_for_one_portal_only():
    site, other = make.portal(), make.portal()
    sign_up(site, 0)
    sign_up(site, 0, confirmed=False)
    sign_up(site, 29)
    sign_up(site, 30)  # a day too old
    sign_up(other, 0)
    mission = make.mission(make.organisation(site))
    application = make.application(mission, make.volunteer())
    Application.objects.filter(pk=application.pk).update(created_at=on(3) + timedelta(hours=9))
    email(site, "sent", 1, n=2)
    email(site, "failed", 2)
    email(other, "sent", 1)

    series = by_name(figures.portal_series(site.pk))
    assert len(series["signups"].points) == figures.DAYS
    assert series["signups"].points[-1] == (timezone.localdate(), 2)
    assert series["signups"].points[0][1] == 1
    assert series["signups"].total == 3
    assert series["confirmations"].total == 2
    assert series["applications"].total == 1
    assert dict(series["applications"].points)[timezone.localdate() - timedelta(days=3)] == 1
    assert series["emails"].total == 2
    assert series["failures"].total == 1


def test_a_referent_counts_their_departements_and_no_emails():
    site = make.portal()
    sign_up(site, 0, postal_code="69003")
    sign_up(site, 0, postal_code="75011")
    lyon = make.mission(make.organisation(site), postal_code="69001", city="Lyon")
    paris = make.mission(make.organisation(site))  # 75011
    make.application(lyon, make.volunteer())
    make.application(paris, make.volunteer())

    series = by_name(figures.portal_series(site.pk, {"69"}))
    assert series["signups"].total == 1
    assert series["applications"].total == 1
    assert "emails" not in series and "failures" not in series
    assert by_name(figures.portal_series(site.pk))["applications"].total == 2


def test_figures_are_cached():
    site = make.portal()
    figures.portal_series(site.pk)
    figures.outbox_state()
    with CaptureQueriesContext(connection) as queries:
        figures.portal_series(site.pk)
        figures.outbox_state()
    assert len(queries) == 0


def test_the_outbox_state_counts_waiting_and_failed_emails():
    site = make.portal()
    before = figures.outbox_state()
    email(site, "pending", 0, n=3)
    email(site, "failed", 1)
    email(site, "failed", 40)  # older than the dashboard's window
    figures.cache.clear()
    after = figures.outbox_state()
    assert after["backlog"] == before["backlog"] + 3
    assert after["failed"] == before["failed"] + 1
    assert after["oldest_minutes"] is not None


def test_a_chart_draws_one_bar_per_day_scaled_to_the_peak():
    today = timezone.localdate()
    points = [(today - timedelta(days=2), 0), (today - timedelta(days=1), 4), (today, 2)]
    svg = charts.bar_chart(points, label="Inscriptions <b>", kind="signups")
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[0] == 0 and heights[1] == 2 * heights[2] > 0
    assert "<title>" in svg and ": 4</title>" in svg
    assert 'aria-label="Inscriptions &lt;b&gt; : 6 (max 4)"' in svg
    assert "style=" not in svg  # colours from the static stylesheet (CSP)


def test_superusers_see_every_portal_and_the_outbox_in_the_admin(demo):
    client = make.client_for(make.superuser())
    page = client.get("/admin/")
    assert page.status_code == 200
    text = page.text
    assert "dashboards/charts.css" in text
    assert text.count('<svg class="chart') >= 2 * 5
    assert demo["localhost"].site_name in text and demo["covid19.localhost"].site_name in text
    assert "dashboards-outbox" in text


def test_a_moderator_sees_their_portal_a_referent_their_departements(demo):
    site, other = demo["localhost"], demo["covid19.localhost"]
    moderator = make.moderator(site)
    text = make.client_for(moderator).get("/admin/").text
    assert "portal-activity-title" not in text  # the staff panel is the superusers'
    section = text[text.index("moderation-title") :]
    assert site.site_name in section and other.site_name not in section
    assert section.count('<svg class="chart') == 5

    Referent.objects.create(user=moderator, site=site, departement="69")
    text = make.client_for(moderator).get("/admin/").text
    section = text[text.index("moderation-title") :]
    assert "69" in section
    assert section.count('<svg class="chart') == 3  # no emails: they have no département
