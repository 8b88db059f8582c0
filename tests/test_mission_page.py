"""The public mission and organisation pages: what a visitor reads, who may see them, how
caches keep them, and the sitemap that lists them."""

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest

from missions.models import Favourite, Mission
from organisations.models import Organisation
from portal.purge import content_version
from tests import factories as make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("french")]


@pytest.fixture
def site(demo):
    return demo["localhost"]


@pytest.fixture
def org(site):
    return make.organisation(
        site,
        name="Les Restos du Quartier",
        description="Nous servons des repas chaque soir.",
        city="Paris",
        postal_code="75011",
    )


class Head(HTMLParser):
    """The <link>, <meta> and JSON-LD blocks of a page, and its form fields."""

    def __init__(self, text):
        super().__init__()
        self.links, self.metas, self.ld, self.fields, self._ld = [], {}, [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link":
            self.links.append(attrs)
        elif tag == "meta" and "property" in attrs:
            self.metas[attrs["property"]] = attrs.get("content")
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._ld = True
        elif tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.fields.append(attrs)

    def handle_endtag(self, tag):
        self._ld = self._ld and tag != "script"

    def handle_data(self, data):
        if self._ld:
            self.ld.append(json.loads(data))


def assert_public(response):
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert "s-maxage=" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "csrfmiddlewaretoken" not in response.text


# --- The mission page -----------------------------------------------------------------------


def test_the_bare_id_and_a_wrong_slug_redirect_to_the_canonical_url(client, org):
    mission = make.mission(org, title="Maraude du soir")
    canonical = f"/fr/missions/{mission.pk}-{mission.slug}/"
    assert mission.get_absolute_url() == canonical
    for url in (f"/fr/missions/{mission.pk}/", f"/fr/missions/{mission.pk}-ancien-titre/"):
        response = client.get(url)
        assert response.status_code == 301 and response["Location"] == canonical
    english = client.get(f"/en/missions/{mission.pk}/")
    assert english["Location"] == f"/en/missions/{mission.pk}-{mission.slug}/"


def test_the_mission_page_shows_the_mission(client, org):
    mission = make.mission(
        org,
        title="Maraude du soir",
        description="<p>Distribuer des <strong>repas</strong></p><script>alert(1)</script>",
        prerequisites="Savoir écouter",
        address="12 rue Oberkampf",
        schedule="Chaque mardi, 19h-22h",
        is_recurring=True,
        minimum_age=18,
        places=4,
    )
    response = client.get(mission.get_absolute_url())
    assert_public(response)
    text = response.text
    assert "<h1>Maraude du soir</h1>" in text
    assert f'href="/fr/organisations/{org.slug}/">Les Restos du Quartier</a>' in text
    assert "<strong>repas</strong>" in text and "alert(1)" not in text
    assert "Savoir écouter" in text and "Chaque mardi, 19h-22h" in text
    assert "12 rue Oberkampf" in text and "75011 Paris" in text
    assert "Dès 18 ans" in text and "4 places restantes" in text
    assert "https://www.openstreetmap.org/?mlat=48.86000&amp;mlon=2.38000" in text
    assert f'href="/fr/missions/{mission.pk}/candidater/"' in text
    assert f'action="/fr/espace/favoris/{mission.pk}/"' in text  # no token: same-origin POST
    url = f"http://localhost/fr/missions/{mission.pk}-{mission.slug}/"
    assert "https://www.facebook.com/sharer/sharer.php?u=" + url.replace(":", "%3A").replace(
        "/", "%2F"
    ) in text.replace("&amp;", "&")
    assert "mailto:?subject=Maraude%20du%20soir" in text


def test_the_mission_page_carries_its_metadata(client, org):
    mission = make.mission(org, title="Maraude du soir", end_date="2099-06-30")
    head = Head(client.get(mission.get_absolute_url()).text)
    url = f"http://localhost/fr/missions/{mission.pk}-{mission.slug}/"
    links = {(link.get("rel"), link.get("hreflang")): link["href"] for link in head.links}
    assert links["canonical", None] == url
    assert links["alternate", "fr"] == url
    assert links["alternate", "en"] == f"http://localhost/en/missions/{mission.pk}-{mission.slug}/"
    assert links["alternate", "x-default"] == url
    assert head.metas["og:url"] == url and head.metas["og:title"] == "Maraude du soir"
    (posting,) = head.ld
    assert posting["@type"] == "JobPosting" and posting["employmentType"] == "VOLUNTEER"
    assert posting["title"] == "Maraude du soir" and posting["url"] == url
    assert posting["validThrough"] == "2099-06-30"
    assert posting["hiringOrganization"]["name"] == "Les Restos du Quartier"
    assert posting["jobLocation"]["address"]["postalCode"] == "75011"
    remote = make.mission(org, is_remote=True, postal_code="", city="")
    (posting,) = Head(client.get(remote.get_absolute_url()).text).ld
    assert posting["jobLocationType"] == "TELECOMMUTE" and "jobLocation" not in posting


def test_the_english_page_speaks_english(client, org):
    mission = make.mission(org, places=2)
    text = client.get(f"/en/missions/{mission.pk}-{mission.slug}/").text
    assert "I offer my help" in text and "2 places left" in text
    assert f'href="/en/organisations/{org.slug}/"' in text


def test_a_full_mission_says_its_waiting_list(client, org):
    mission = make.mission(org, places=1)
    make.application(mission)
    text = unescape(client.get(mission.get_absolute_url()).text)
    assert "Complet : liste d'attente ouverte" in text


@pytest.mark.parametrize(
    "change",
    [
        {"status": Mission.Status.DRAFT},
        {"status": Mission.Status.SUBMITTED},
        {"status": Mission.Status.REFUSED},
        {"status": Mission.Status.CLOSED},
        {"end_date": "2000-01-01"},
        {"places": 1, "waiting_list": False, "active_count": 1},
    ],
    ids=["draft", "submitted", "refused", "closed", "ended", "full-without-list"],
)
def test_a_mission_not_public_is_a_404(client, org, change):
    mission = make.mission(org, **change)
    assert client.get(mission.get_absolute_url()).status_code == 404
    assert client.get(f"/fr/missions/{mission.pk}/").status_code == 404
    assert client.get(f"/fr/missions/{mission.pk}/candidater/").status_code == 404


def test_another_portals_mission_and_an_unvalidated_organisation_are_404(client, demo, site):
    other = make.mission(make.organisation(demo["covid19.localhost"]))
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(other.get_absolute_url(), HTTP_HOST="covid19.localhost").status_code == 200
    suspended = make.organisation(site, status=Organisation.Status.SUSPENDED)
    assert client.get(make.mission(suspended).get_absolute_url()).status_code == 404
    assert client.get("/fr/missions/99999999/").status_code == 404


def test_a_signed_in_visitor_gets_the_same_page(org):
    mission = make.mission(org)
    volunteer = make.volunteer()
    response = make.client_for(volunteer).get(mission.get_absolute_url())
    anonymous = make.client_for().get(mission.get_absolute_url())
    assert response.status_code == 200 and response.content == anonymous.content
    assert response["Cache-Control"] == anonymous["Cache-Control"]
    assert volunteer.email not in response.text and "csrfmiddlewaretoken" not in response.text


def test_home_page_cards_link_to_the_mission_pages(client, site):
    text = client.get("/fr/").text
    linked = re.findall(r'href="/fr/missions/(\d+)-([\w-]+)/"', text)
    assert linked
    for pk, slug in linked:
        assert Mission.objects.public(site).filter(pk=pk, slug=slug).exists()


# --- Caches: a change volunteers can see empties them -----------------------------------------


def test_a_mission_change_bumps_the_portals_version_and_purges_its_urls(
    site, org, cloudflare, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mission = make.mission(org)
    before = content_version(site)
    mission.title = "Nouveau titre"
    with django_capture_on_commit_callbacks(execute=True):
        mission.save()
    assert content_version(site) > before
    page = f"http://localhost/fr/missions/{mission.pk}-{mission.slug}/"
    assert page in cloudflare.purged
    assert f"http://localhost/en/missions/{mission.pk}-{mission.slug}/" in cloudflare.purged
    assert f"http://localhost/fr/organisations/{org.slug}/" in cloudflare.purged
    assert "http://localhost/fr/" in cloudflare.purged
    assert "http://localhost/sitemap.xml" in cloudflare.purged
    # Closed: it was public, so its pages go too.
    before = content_version(site)
    with django_capture_on_commit_callbacks(execute=True):
        Mission.objects.get(pk=mission.pk).save()  # unchanged but validated: purged
        mission.status = Mission.Status.CLOSED
        mission.save()
    assert content_version(site) > before


def test_a_draft_edit_leaves_the_caches_alone(site, org, django_capture_on_commit_callbacks):
    draft = make.mission(org, status=Mission.Status.DRAFT)
    before = content_version(site)
    draft.title = "Brouillon"
    with django_capture_on_commit_callbacks(execute=True):
        draft.save()
    assert content_version(site) == before


def test_suspending_an_organisation_purges_its_pages(
    site, org, cloudflare, django_capture_on_commit_callbacks
):
    mission = make.mission(org)
    before = content_version(site)
    org.status = Organisation.Status.SUSPENDED
    with django_capture_on_commit_callbacks(execute=True):
        org.save()
    assert content_version(site) > before
    assert f"http://localhost/fr/organisations/{org.slug}/" in cloudflare.purged
    assert f"http://localhost/fr/missions/{mission.pk}-{mission.slug}/" in cloudflare.purged


# --- The organisation page ------------------------------------------------------------------


def test_the_organisation_page_lists_its_open_missions(client, org):
    open_mission = make.mission(org, title="Maraude du soir")
    make.mission(org, title="Brouillon caché", status=Mission.Status.DRAFT)
    response = client.get(f"/fr/organisations/{org.slug}/")
    assert_public(response)
    text = response.text
    assert "<h1>Les Restos du Quartier</h1>" in text
    assert "Association" in text and "Paris" in text
    assert "Nous servons des repas chaque soir." in text
    assert f'href="/fr/missions/{open_mission.pk}-{open_mission.slug}/">Maraude du soir' in text
    assert "Brouillon caché" not in text
    head = Head(text)
    links = {(link.get("rel"), link.get("hreflang")): link["href"] for link in head.links}
    assert links["canonical", None] == f"http://localhost/fr/organisations/{org.slug}/"
    assert links["alternate", "en"] == f"http://localhost/en/organisations/{org.slug}/"


def test_an_organisation_not_public_here_is_a_404(client, demo, site):
    for status in ("draft", "submitted", "refused", "suspended"):
        hidden = make.organisation(site, status=status)
        assert client.get(f"/fr/organisations/{hidden.slug}/").status_code == 404
    elsewhere = make.organisation(demo["covid19.localhost"])
    assert client.get(f"/fr/organisations/{elsewhere.slug}/").status_code == 404
    assert client.get("/fr/organisations/personne/").status_code == 404


# --- Sitemap --------------------------------------------------------------------------------


def test_the_sitemap_lists_public_missions_and_organisations_of_this_portal(client, demo, org):
    mission = make.mission(org)
    draft = make.mission(org, status=Mission.Status.DRAFT)
    other = make.mission(make.organisation(demo["covid19.localhost"]))
    response = client.get("/sitemap.xml")
    assert_public(response)
    text = response.text
    assert f"<loc>http://localhost/fr/missions/{mission.pk}-{mission.slug}/</loc>" in text
    assert f"<loc>http://localhost/en/missions/{mission.pk}-{mission.slug}/</loc>" in text
    assert f'hreflang="en" href="http://localhost/en/missions/{mission.pk}-' in text
    assert f"<loc>http://localhost/fr/organisations/{org.slug}/</loc>" in text
    assert "<loc>http://localhost/fr/</loc>" in text  # the Wagtail pages are still there
    assert f"/missions/{draft.pk}-" not in text and f"/missions/{other.pk}-" not in text
    elsewhere = client.get("/sitemap.xml", HTTP_HOST="covid19.localhost").text
    assert f"<loc>http://covid19.localhost/fr/missions/{other.pk}-{other.slug}/</loc>" in elsewhere
    assert "http://localhost/" not in elsewhere


def test_the_favourite_button_posts_without_a_token_from_the_page(org):
    mission = make.mission(org)
    volunteer = make.volunteer()
    client = make.client_for(volunteer, enforce_csrf_checks=True)
    assert 'name="csrfmiddlewaretoken"' not in client.get(mission.get_absolute_url()).text
    response = client.post(
        f"/fr/espace/favoris/{mission.pk}/", {"action": "add"}, HTTP_ORIGIN="http://localhost"
    )
    assert response.status_code == 302
    assert Favourite.objects.filter(volunteer=volunteer, mission=mission).exists()
