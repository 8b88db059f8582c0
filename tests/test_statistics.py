"""The public statistics page: this portal's counts per day and per département, cached, public."""

import datetime
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from home import figures, statistics
from missions import postcodes
from missions.models import Application, Mission
from tenants.switches import apply
from tests import factories as make
from tests.factories import client_for
from tests.test_volunteer_follow_up import assert_dsfr_first_load

pytestmark = pytest.mark.django_db


def ago(days: int) -> datetime.datetime:
    """Noon, `days` days ago, local time."""
    day = timezone.localdate() - datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def people(site, postal_code: str, n: int = 1, days_ago: int = 0) -> list[User]:
    made = [make.volunteer(postal_code=postal_code, signup_site=site) for _ in range(n)]
    User.objects.filter(pk__in=[u.pk for u in made]).update(date_joined=ago(days_ago))
    return made


def mission(org, days_ago: int = 0, **fields) -> Mission:
    made = make.mission(org, places=50, **fields)
    Mission.objects.filter(pk=made.pk).update(created_at=ago(days_ago))
    return made


def applications(to: Mission, volunteers, days_ago: int = 0) -> None:
    made = [make.application(to, v) for v in volunteers]
    Application.objects.filter(pk__in=[a.pk for a in made]).update(created_at=ago(days_ago))


@pytest.fixture
def portals(demo):
    """Two new portals with nothing but what each test puts in them."""
    return make.portal("stats-ici"), make.portal("stats-ailleurs")


def fill(site, scale: int = 1):
    org = make.organisation(site)
    paris = people(site, "75011", 2 * scale)
    people(site, "20090", 1 * scale, days_ago=3)  # Ajaccio: Corse-du-Sud
    people(site, "97411", 1 * scale, days_ago=40)  # La Réunion, before the 30 days
    in_paris = mission(org, postal_code="75011", city="Paris")
    mission(org, days_ago=3, postal_code="20200", city="Bastia")  # Haute-Corse
    remote = mission(org, days_ago=3, is_remote=True, postal_code="", city="")
    mission(org, status=Mission.Status.DRAFT, postal_code="75011", city="Paris")  # unpublished
    applications(in_paris, paris)
    applications(remote, people(site, "13001", scale, days_ago=50), days_ago=1)


def test_counts_per_day_and_departement_for_this_portal_only(portals):
    here, elsewhere = portals
    fill(here)
    fill(elsewhere, scale=3)  # another portal's data: never counted here

    data = statistics.compute(here)

    days = {row["day"]: row for row in data["days"]}
    today = timezone.localdate()
    assert len(days) == 30 and min(days) == today - datetime.timedelta(days=29)
    assert days[today] == {"day": today, "volunteers": 2, "missions": 1, "applications": 2}
    three = days[today - datetime.timedelta(days=3)]
    assert (three["volunteers"], three["missions"], three["applications"]) == (1, 2, 0)
    one = days[today - datetime.timedelta(days=1)]
    assert (one["volunteers"], one["missions"], one["applications"]) == (0, 0, 1)
    assert sum(row["volunteers"] for row in data["days"]) == 3  # La Réunion: 40 days ago

    rows = {row["code"]: row for row in data["departements"]}
    assert [row["code"] for row in data["departements"]] == ["13", "2A", "2B", "75", "974"]
    assert rows["75"] == {
        "code": "75",
        "name": "Paris",
        "volunteers": 2,
        "missions": 1,
        "applications": 2,
    }
    assert (rows["2A"]["volunteers"], rows["2A"]["missions"]) == (1, 0)
    assert (rows["2B"]["volunteers"], rows["2B"]["missions"]) == (0, 1)
    assert rows["974"]["name"] == "La Réunion" and rows["974"]["volunteers"] == 1
    assert data["remote"] == {"volunteers": 0, "missions": 1, "applications": 1}
    assert data["totals"] == {"volunteers": 5, "missions": 3, "applications": 3}


def test_the_page_draws_them_public_and_cacheable(portals):
    here, elsewhere = portals
    fill(here)
    fill(elsewhere, scale=3)
    response = client_for(host=here.hostname).get("/fr/statistiques/")

    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("public") and "s-maxage" in response["Cache-Control"]
    )
    assert not response.cookies and "Cookie" not in response.get("Vary", "")
    text = unescape(response.text)
    assert "csrfmiddlewaretoken" not in text and "<script>" not in text and 'style="' not in text
    assert '<link rel="stylesheet" href="/static/home/statistics.css">' in text
    assert "Bénévoles inscrits" in text and "Par département" in text
    assert re.search(
        r'<th scope="row">75 · Paris</th><td class="stats-cell">2<span class="stats-hbar '
        r'stats-w-100" aria-hidden="true"></span></td><td class="stats-cell">1<span',
        text,
    )
    assert re.search(r'<th scope="row">2A · Corse-du-Sud</th><td class="stats-cell">1<', text)
    assert '<th scope="row">À distance</th>' in text
    # the totals, and the day-by-day table behind the chart
    assert '<p class="fr-h2 fr-mb-0">5</p><p class="fr-tile__desc">Bénévoles inscrits</p>' in text
    assert text.count('<span class="stats-column"') == 90 and "<caption>" in text
    assert "<td>2</td><td>1</td><td>2</td></tr></tbody>" in text  # today, the last row
    assert assert_dsfr_first_load(response.text) == 0

    english = client_for(host=here.hostname).get("/en/statistiques/")
    assert english.status_code == 200 and "Volunteers signed up" in english.text


def test_counts_are_cached_per_portal_and_survive_a_degraded_portal(portals):
    here, elsewhere = portals
    people(here, "75011")
    client = client_for(host=here.hostname)
    assert '<p class="fr-h2 fr-mb-0">1</p>' in client.get("/fr/statistiques/").text
    people(here, "75011")
    cached = client.get("/fr/statistiques/").text
    assert '<p class="fr-h2 fr-mb-0">1</p>' in cached  # within STATS_TTL: not recounted

    apply(elsewhere, degraded_mode=True)  # never counted: nothing to show, no counting
    page = client_for(host=elsewhere.hostname).get("/fr/statistiques/")
    assert page.status_code == 200 and "momentanément indisponibles" in page.text
    apply(here, degraded_mode=True)  # counted before: the last known figures
    assert '<p class="fr-h2 fr-mb-0">1</p>' in client.get("/fr/statistiques/").text

    apply(here, degraded_mode=False)
    figures._last_known.clear()
    cache.clear()
    assert '<p class="fr-h2 fr-mb-0">2</p>' in client.get("/fr/statistiques/").text


def test_departements_from_postal_codes():
    expected = {
        "01400": "01",
        "1400": "01",
        "75011": "75",
        "20000": "2A",
        "20167": "2A",
        "20200": "2B",
        "20600": "2B",
        "97110": "971",
        "97411": "974",
        "97600": "976",
        "98800": "988",
        "": None,
        "7501": "07",
        "abcde": None,
    }
    assert {code: postcodes.departement(code) for code in expected} == expected
    order = sorted(["971", "2B", "21", "19", "2A", "01", "95"], key=postcodes.departement_order)
    assert order == ["01", "19", "2A", "2B", "21", "95", "971"]
