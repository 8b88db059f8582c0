"""The mission search page /fr/missions/: every filter of the API, facet counts, sort, pages,
cards to the mission pages, the whole query in the URL, errors in DSFR markup, degraded mode."""

import datetime
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from missions.models import Activity, Domain, PostalCode
from search import index
from tenants.switches import apply
from tests import factories as make

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def portal(demo):
    """A portal of its own, so that the demo's missions do not show."""
    site = make.portal()
    food = Domain.objects.create(name="Aide alimentaire test", slug="food-t")
    health = Domain.objects.create(name="Santé test", slug="health-t")
    sorting = Activity.objects.create(name="Tri test", slug="sorting-t", domain=food)
    visits = Activity.objects.create(name="Visites test", slug="visits-t", domain=health)
    PostalCode.objects.get_or_create(
        code="69001", city="LYON 01", defaults={"latitude": 45.767, "longitude": 4.834}
    )
    org = make.organisation(site, name="Banque solidaire")

    def mission(title, **fields):
        place = {"postal_code": "69001", "city": "Lyon", "latitude": 45.764, "longitude": 4.835}
        return make.mission(org, title=title, **{**place, **fields})

    missions = {
        "colis": mission(
            "Colis alimentaires",
            domain=food,
            activity=sorting,
            start_date=days(10),
            end_date=days(60),
            description="<p>Préparer des colis de denrées</p>",
        ),
        "epicerie": mission(
            "Épicerie des étudiants",
            domain=food,
            audience="young",
            latitude=45.77,
            longitude=4.88,
            city="Villeurbanne",
            start_date=days(3),
            end_date=days(20),
        ),
        "visites": mission(
            "Visites aux aînés",
            domain=health,
            activity=visits,
            audience="seniors",
            latitude=45.75,
            longitude=4.85,
            start_date=days(30),
        ),
        "appels": mission(
            "Appels de convivialité",
            domain=health,
            is_remote=True,
            latitude=None,
            longitude=None,
            city="",
            postal_code="",
        ),
        "maraude": mission(
            "Maraude à Marseille",
            domain=food,
            latitude=43.296,
            longitude=5.37,
            city="Marseille",
            postal_code="13001",
            start_date=days(40),
        ),
    }
    return {"host": site.hostname, "site": site, "org": org, **missions}


def get(client, portal, query="", status=200, language="fr"):
    response = client.get(f"/{language}/missions/{query}", HTTP_HOST=portal["host"])
    assert response.status_code == status, response.content.decode()[-2000:]
    return response


def soup(response):
    return BeautifulSoup(response.content, "html.parser").find("main")


def titles(response) -> list[str]:
    return [h.get_text(strip=True) for h in soup(response).select(".fr-card__title")]


def options(page, name: str) -> list[str]:
    return [o.get_text(" ", strip=True) for o in page.select(f"select[name={name}] option")]


def test_first_load_every_control_in_dsfr_markup_and_no_error(client, portal):
    response = get(client, portal)
    assert response["Cache-Control"].startswith("public")
    page = soup(response)
    controls = page.select("input, select, textarea")
    assert len(controls) >= 12
    for control in controls:
        kind = control.get("type", "text")
        if kind == "hidden":
            continue
        if kind == "radio":
            assert "fr-radio-group" in control.parent["class"], control
        elif control.name == "select":
            assert "fr-select" in control["class"], control
        else:
            assert "fr-input" in control["class"], control
        label = page.find("label", attrs={"for": control["id"]})
        assert label and "fr-label" in label["class"], control
    for fieldset in page.select("fieldset"):
        assert "fr-fieldset" in fieldset["class"]
    assert not page.select(
        ".fr-error-text:not(.fr-hidden), .fr-message--error, .fr-alert--error, "
        ".fr-input-group--error, .fr-select-group--error, .fr-fieldset--error"
    )
    form = page.find("form", id="mission-search")
    assert form["method"] == "get"
    names = {c["name"] for c in form.select("input, select")}
    assert names == {
        "q",
        "postal_code",
        "radius_km",
        "lat",
        "lng",
        "domain",
        "activity",
        "remote",
        "audience",
        "date_from",
        "date_to",
    }  # sort appears once there are two orders to choose from
    assert sorted(titles(response)) == sorted(
        ["Colis alimentaires", "Épicerie des étudiants", "Visites aux aînés"]
        + ["Appels de convivialité", "Maraude à Marseille"]
    )
    # "Around me" is a static file's work, offered only where the browser can locate.
    assert page.find(id="around-me")["class"].count("fr-hidden") == 1
    assert '<script src="/static/search/missions.js" defer>' in response.text


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?q=colis", ["Colis alimentaires"]),
        ("?q=etudiant", ["Épicerie des étudiants"]),
        ("?postal_code=69001&radius_km=2", ["Colis alimentaires"]),
        (
            "?postal_code=69001&radius_km=5",  # Villeurbanne is 3.6 km away
            ["Colis alimentaires", "Visites aux aînés", "Épicerie des étudiants"],
        ),
        ("?lat=43.3&lng=5.37&radius_km=5", ["Maraude à Marseille"]),
        ("?domain=health-t", ["Visites aux aînés", "Appels de convivialité"]),
        ("?activity=sorting-t", ["Colis alimentaires"]),
        ("?remote=true", ["Appels de convivialité"]),
        ("?remote=false&domain=health-t", ["Visites aux aînés"]),
        ("?audience=seniors", ["Visites aux aînés"]),
        # Taking place during the dates: started by day 5 (or no date)...
        (f"?date_to={days(5)}", ["Épicerie des étudiants", "Appels de convivialité"]),
        # ... still running on day 25 (the épicerie ends on day 20).
        (f"?date_from={days(25)}&domain=food-t", ["Colis alimentaires", "Maraude à Marseille"]),
    ],
)
def test_each_filter_narrows_the_results(client, portal, query, expected):
    assert sorted(titles(get(client, portal, query))) == sorted(expected)


def test_facet_counts_are_shown_next_to_each_choice(client, portal):
    page = soup(get(client, portal))
    assert "Aide alimentaire test (3)" in options(page, "domain")
    assert "Santé test (2)" in options(page, "domain")
    assert "Tri test (1)" in options(page, "activity")
    assert "Visites test (1)" in options(page, "activity")
    assert "Tout public (3)" in options(page, "audience")
    assert "Jeunes (16-25 ans) (1)" in options(page, "audience")
    assert "Seniors (1)" in options(page, "audience")
    labels = [label.get_text(" ", strip=True) for label in page.select(".fr-radio-group label")]
    assert labels == ["Tous", "Sur place (4)", "À distance (1)"]
    # Counts for adding a filter to the current ones: with the health domain chosen, the other
    # dimensions count within it, the domain list itself shows no counts, activities are its own.
    page = soup(get(client, portal, "?domain=health-t"))
    domains = options(page, "domain")
    assert "Aide alimentaire test" in domains and "Santé test" in domains
    assert not any(re.search(r"\(\d+\)", name) for name in domains)
    assert options(page, "activity") == ["Toutes les activités", "Visites test (1)"]
    labels = [label.get_text(" ", strip=True) for label in page.select(".fr-radio-group label")]
    assert labels == ["Tous", "Sur place (1)", "À distance (1)"]
    assert page.select_one("select[name=domain] option[selected]")["value"] == "health-t"
    assert "2 missions" in page.get_text()


def test_sort_orders(client, portal):
    # Soonest start first by default without text or place; missions without a date last.
    by_date = titles(get(client, portal))
    assert by_date == [
        "Épicerie des étudiants",
        "Colis alimentaires",
        "Visites aux aînés",
        "Maraude à Marseille",
        "Appels de convivialité",
    ]
    # Around a place: nearest first, and the order can be changed to the soonest.
    around = "?postal_code=69001&radius_km=10"
    response = get(client, portal, around)
    assert titles(response) == ["Colis alimentaires", "Visites aux aînés", "Épicerie des étudiants"]
    sort = soup(response).select("select[name=sort] option")
    assert [(o["value"], o.get_text(strip=True), o.has_attr("selected")) for o in sort] == [
        ("", "Les plus proches", True),
        ("date", "Début le plus proche", False),
    ]
    assert titles(get(client, portal, around + "&sort=date")) == [
        "Épicerie des étudiants",
        "Colis alimentaires",
        "Visites aux aînés",
    ]
    # Text: relevance first (the title weighs more than the description), or the date.
    make.mission(portal["org"], title="Tri du soir", description="<p>Colis</p>", start_date=days(1))
    index.bump()
    assert titles(get(client, portal, "?q=colis")) == ["Colis alimentaires", "Tri du soir"]
    response = get(client, portal, "?q=colis&sort=date")
    assert titles(response) == ["Tri du soir", "Colis alimentaires"]
    selected = soup(response).select_one("select[name=sort] option[selected]")
    assert selected["value"] == "date"


def test_pages_keep_the_query_and_page_two_shows_the_next_results(client, portal):
    for n in range(1, 46):
        make.mission(
            portal["org"], title=f"Soutien n°{n:02d}", start_date=days(100 + n), postal_code="69001"
        )
    index.bump()
    query = "?q=soutien&remote=false&sort=date"
    first = get(client, portal, query)
    assert titles(first) == [f"Soutien n°{n:02d}" for n in range(1, 21)]
    nav = soup(first).select_one("nav.fr-pagination")
    links = {a.get_text(strip=True): a.get("href") for a in nav.select("a")}
    assert links["1"] is None  # the current page is not a link
    assert nav.select_one("[aria-current=page]").get_text(strip=True) == "1"
    assert set(links) >= {"2", "3", "Page suivante", "Dernière page"} and "4" not in links
    assert links["Page précédente"] is None
    second = links["2"]
    assert dict(parse_qsl(urlsplit(second).query)) == {
        "q": "soutien",
        "remote": "false",
        "sort": "date",
        "page": "2",
    }
    assert links["Page suivante"] == second and links["Dernière page"].endswith("page=3")
    page_two = get(client, portal, second)
    assert titles(page_two) == [f"Soutien n°{n:02d}" for n in range(21, 41)]
    nav = soup(page_two).select_one("nav.fr-pagination")
    links = {a.get_text(strip=True): a.get("href") for a in nav.select("a")}
    assert "page" not in links["1"] and "q=soutien" in links["1"]  # page 1 is the plain query
    assert links["Page précédente"] == links["1"]
    assert titles(get(client, portal, links["3"])) == [f"Soutien n°{n:02d}" for n in range(41, 46)]
    # One page of results: no pagination.
    assert not soup(get(client, portal, "?q=colis")).select("nav.fr-pagination")


def test_cards_link_to_the_mission_page(client, portal):
    page = soup(get(client, portal, "?q=colis"))
    card = page.select_one(".fr-card")
    assert "fr-enlarge-link" in card["class"]
    link = card.select_one(".fr-card__title a")
    colis = portal["colis"]
    assert link["href"] == f"/fr/missions/{colis.pk}-{colis.slug}/" == colis.get_absolute_url()
    assert link.get_text(strip=True) == "Colis alimentaires"
    text = card.get_text(" ", strip=True)
    assert "Banque solidaire" in text and "Aide alimentaire test" in text and "Lyon" in text
    assert "3 places restantes" in text
    english = soup(get(client, portal, "?q=colis", language="en"))
    assert english.select_one(".fr-card__title a")["href"].startswith(f"/en/missions/{colis.pk}-")
    around = soup(get(client, portal, "?postal_code=69001&radius_km=10&q=visites"))
    assert re.search(r"Lyon · 2,\d km", around.select_one(".fr-card").get_text(" ", strip=True))


def test_the_query_round_trips_in_the_url(client, portal):
    query = (
        "?q=colis&postal_code=69001&radius_km=50&domain=food-t&activity=sorting-t&remote=false"
        f"&audience=all&date_from={days(1)}&date_to={days(90)}&sort=date"
    )
    response = get(client, portal, query)
    form = soup(response).find("form", id="mission-search")
    assert titles(response) == ["Colis alimentaires"]
    assert form.find("input", attrs={"name": "q"})["value"] == "colis"
    assert form.find("input", attrs={"name": "postal_code"})["value"] == "69001"
    assert form.find("input", attrs={"name": "date_from"})["value"] == str(days(1))
    assert form.find("input", attrs={"name": "date_to"})["value"] == str(days(90))
    for name, value in [
        ("radius_km", "50"),
        ("domain", "food-t"),
        ("activity", "sorting-t"),
        ("audience", "all"),
        ("sort", "date"),
    ]:
        assert form.select_one(f"select[name={name}] option[selected]")["value"] == value, name
    assert form.select_one("input[name=remote][checked]")["value"] == "false"
    # Nothing found: no order to choose, the one asked for is kept for the next search.
    empty = soup(get(client, portal, "?q=introuvable&sort=date"))
    assert not empty.select("select[name=sort]")
    assert empty.find("input", attrs={"name": "sort", "type": "hidden"})["value"] == "date"
    # A position from "around me" is kept in the hidden fields, and can be dropped.
    page = soup(get(client, portal, "?lat=45.76&lng=4.84&q=colis"))
    assert page.find("input", attrs={"name": "lat"})["value"] == "45.76"
    assert page.find("input", attrs={"name": "lng"})["value"] == "4.84"
    drop = page.find("a", string=re.compile("code postal"))
    assert drop["href"] == "?q=colis"


def test_a_radius_from_the_url_outside_the_usual_ones_is_offered(client, portal):
    page = soup(get(client, portal, "?postal_code=69001&radius_km=37"))
    assert page.select_one("select[name=radius_km] option[selected]")["value"] == "37"


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("?radius_km=999", "radius_km", "Choisissez une distance entre 1 et 200 km."),
        ("?postal_code=ABCDE", "postal_code", "Saisissez un code postal à 5 chiffres"),
        ("?postal_code=99999", "postal_code", "Ce code postal est inconnu."),
        ("?domain=nope", "domain", "Choisissez un domaine dans la liste."),
        ("?date_from=2026-05-01&date_to=2026-04-01", "date_to", "La date de fin précède"),
        ("?remote=peut-etre", "remote", "Choisissez sur place ou à distance."),
        ("?lat=45", "lat", "Votre position n'a pas pu être lue"),
        ("?page=0", "page", "Cette page n'existe pas"),
    ],
)
def test_invalid_input_is_a_400_with_the_error_at_its_field(client, portal, query, field, message):
    response = get(client, portal, query, status=400)
    page = soup(response)
    alert = page.select_one(".fr-alert--error")
    assert message in alert.get_text()
    assert not page.select(".fr-card")
    if field in ("lat", "page"):  # no control of its own: the alert says it
        return
    if field == "remote":
        assert "fr-fieldset--error" in page.find("fieldset", id="remote")["class"]
        assert message in page.select_one(".fr-message--error").get_text()
        return
    control = page.find(id=field)
    assert control.get("aria-describedby") == f"{field}-error"
    assert message in page.find(id=f"{field}-error").get_text()
    group = control.find_parent(class_=re.compile("fr-(input|select)-group"))
    assert {"fr-input-group--error", "fr-select-group--error"} & set(group["class"])
    assert alert.find("a", href=f"#{field}")


def test_the_form_keeps_the_valid_values_beside_an_invalid_one(client, portal):
    page = soup(get(client, portal, "?q=colis&radius_km=50&remote=true&domain=nope", status=400))
    assert page.find("input", attrs={"name": "q"})["value"] == "colis"
    assert page.select_one("select[name=radius_km] option[selected]")["value"] == "50"
    assert page.select_one("input[name=remote][checked]")["value"] == "true"


@pytest.mark.parametrize("query", ["?q=a%00b", "?utm_source=%00"])
def test_a_nul_byte_is_said_in_french(client, portal, query):
    page = soup(get(client, portal, query, status=400))
    assert "caractères qui ne peuvent pas être cherchés" in page.select_one(".fr-alert").get_text()


def test_degraded_mode_is_unchanged_cache_then_one_page_without_counts(client, portal):
    warm = get(client, portal, "?domain=health-t")
    apply(portal["site"], degraded_mode=True)
    cached = soup(get(client, portal, "?domain=health-t"))  # served from the search cache
    assert "2 missions" in cached.get_text()
    assert titles(warm) == [h.get_text(strip=True) for h in cached.select(".fr-card__title")]
    light = get(client, portal, "?domain=food-t")
    page = soup(light)
    assert "La recherche est limitée" in page.select_one(".fr-alert--info").get_text()
    assert sorted(titles(light)) == [
        "Colis alimentaires",
        "Maraude à Marseille",
        "Épicerie des étudiants",
    ]
    assert not re.search(r"\d+ missions?\b", page.select_one("#results h2").get_text())
    assert not any(re.search(r"\(\d+\)", o) for o in options(page, "activity"))
    assert not page.select("nav.fr-pagination")  # one page, nothing after it


def test_degraded_mode_pages_go_on_without_a_count(client, portal):
    for n in range(1, 26):
        make.mission(portal["org"], title=f"Soutien n°{n:02d}", start_date=days(100 + n))
    apply(portal["site"], degraded_mode=True)
    page = soup(get(client, portal, "?q=soutien&sort=date"))
    nav = page.select_one("nav.fr-pagination")
    links = {a.get_text(strip=True): a.get("href") for a in nav.select("a")}
    assert links["Page suivante"] == "?q=soutien&sort=date&page=2"
    assert links["Dernière page"] is None  # unknown without a count
    second = soup(get(client, portal, links["Page suivante"]))
    assert len(second.select(".fr-card")) == 5


def test_a_search_served_from_the_search_cache_costs_no_query(
    client, portal, django_assert_num_queries
):
    """Domains and activities come from the cache too: launch-day traffic on the same
    searches never reaches the database (the URL's page cache and the CDN aside)."""
    query = "?domain=food-t&activity=sorting-t&remote=false&q=colis"
    first = get(client, portal, query)
    with django_assert_num_queries(0):
        again = get(client, portal, query)
    assert titles(again) == titles(first) == ["Colis alimentaires"]
