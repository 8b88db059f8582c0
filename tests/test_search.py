"""Finding a mission: text (French, accents ignored), around a place, filters, facets, cache."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from missions.api import MissionSummaryOut, SearchOut
from missions.models import Activity, Domain, Mission, PostalCode
from organisations.models import Organisation
from search import index, statement
from search.missions import (
    PAGE_SIZE,
    InvalidSearch,
    Params,
    facets,
    parse,
    queryset,
    search,
    serialize,
)
from tenants.switches import apply
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(demo):
    org = make.organisation(demo["localhost"], name="Secours Populaire Lyonnais")
    health = Domain.objects.create(name="Santé", slug="sante-test")
    visits = Activity.objects.create(name="Visites", slug="visites-test", domain=health)

    def in_lyon(title, lat, lng, **fields):
        place = {"postal_code": "69001", "city": "Lyon", "description": ""}
        return make.mission(org, title=title, latitude=lat, longitude=lng, **{**place, **fields})

    return {
        "eleves": in_lyon(
            "Aide aux devoirs des élèves",
            45.764,
            4.835,
            description="<p>Soutien scolaire en français</p>",
        ),
        "visites": in_lyon(
            "Visites aux personnes âgées", 45.75, 4.85, domain=health, activity=visits
        ),
        "marseille": in_lyon(
            "Maraude à Marseille", 43.296, 5.37, city="Marseille", postal_code="13001"
        ),
        "remote": in_lyon(
            "Appels de convivialité", None, None, is_remote=True, postal_code="", city=""
        ),
        "past": in_lyon(
            "Collecte terminée des élèves",
            45.76,
            4.84,
            end_date=timezone.localdate() - datetime.timedelta(days=2),
        ),
    }


def ids(found):
    return [r["id"] for r in found.results]


def test_french_stemming_and_accents(catalogue, demo):
    site = demo["localhost"]
    for words in ("eleve", "élèves", "ELEVES", "devoir"):
        assert catalogue["eleves"].pk in ids(search(site, parse({"q": words}))), words
    assert catalogue["past"].pk not in ids(search(site, parse({"q": "eleve"})))  # ended
    assert catalogue["visites"].pk in ids(search(site, parse({"q": "agee"})))
    # The organisation's name is searched too.
    assert len(ids(search(site, parse({"q": "populaire"})))) == 4


def test_around_a_place_sorted_by_distance(catalogue, demo):
    found = search(demo["localhost"], parse({"lat": "45.76", "lng": "4.84", "radius_km": "10"}))
    found_ids = ids(found)
    assert found_ids.index(catalogue["eleves"].pk) < found_ids.index(catalogue["visites"].pk)
    assert catalogue["marseille"].pk not in found_ids and catalogue["remote"].pk not in found_ids
    distances = [r["distance_km"] for r in found.results]
    assert distances == sorted(distances) and distances[-1] <= 10
    far = search(demo["localhost"], parse({"lat": "45.76", "lng": "4.84", "radius_km": "200"}))
    assert catalogue["marseille"].pk not in ids(far)  # ~280 km
    PostalCode.objects.get_or_create(
        code="13001", city="MARSEILLE 01", defaults={"latitude": 43.2999, "longitude": 5.3841}
    )
    near_marseille = search(demo["localhost"], parse({"postal_code": "13001", "radius_km": "5"}))
    assert ids(near_marseille) == [catalogue["marseille"].pk]


def test_filters_and_facets(catalogue, demo):
    site = demo["localhost"]
    found = search(site, parse({"domain": "sante-test"}))
    assert ids(found) == [catalogue["visites"].pk]
    remote = search(site, parse({"remote": "true"}))
    assert catalogue["remote"].pk in ids(remote) and catalogue["eleves"].pk not in ids(remote)
    everything = search(site, parse({}))
    assert everything.facets["domain"]["sante-test"] == 1
    assert everything.facets["remote"]["remote"] == 1
    assert everything.facets["remote"]["on_site"] >= 3
    assert everything.count == sum(everything.facets["remote"].values())
    assert everything.count == sum(everything.facets["audience"].values())
    young = catalogue["eleves"]
    young.audience = "young"
    young.save()
    index.bump()
    assert search(site, parse({})).facets["audience"]["young"] == 1
    assert ids(search(site, parse({"audience": "young"}))) == [young.pk]


def test_results_facets_and_count_take_one_statement(catalogue, demo, django_assert_num_queries):
    """The page, the facets (GROUPING SETS) and the count in one statement; the domains and
    activities the parameters name are checked against a cached list."""
    site = demo["localhost"]
    search(site, parse({"domain": "sante-test"}))  # warms the portal settings and the list
    with django_assert_num_queries(1):
        found = search(site, parse({"domain": "sante-test", "activity": "visites-test", "q": "a"}))
    assert found.count == len(found.results)


def test_a_new_domain_is_known_to_the_search_at_once(demo):
    parse({})  # the list is cached
    with pytest.raises(InvalidSearch):
        parse({"domain": "nouveau"})
    Domain.objects.create(name="Nouveau", slug="nouveau")
    assert parse({"domain": "nouveau"}).domain == "nouveau"


def test_sort_orders(catalogue, demo):
    site = demo["localhost"]
    soon = timezone.localdate() + datetime.timedelta(days=3)
    later = soon + datetime.timedelta(days=30)
    for name, start in (("eleves", later), ("visites", soon), ("marseille", None)):
        catalogue[name].start_date = start
        catalogue[name].save()
    index.bump()
    by_date = ids(search(site, parse({"sort": "date"})))
    assert by_date.index(catalogue["visites"].pk) < by_date.index(catalogue["eleves"].pk)
    assert by_date.index(catalogue["eleves"].pk) < by_date.index(catalogue["marseille"].pk)
    around = {"lat": "45.764", "lng": "4.835", "radius_km": "10", "q": "populaire"}
    nearest = ids(search(site, parse(around)))
    assert nearest == [catalogue["eleves"].pk, catalogue["visites"].pk]
    assert ids(search(site, parse({**around, "sort": "date"}))) == nearest[::-1]
    # Relevance: the title weighs more than the description.
    text = ids(search(site, parse({"q": "élèves"})))
    assert text[0] == catalogue["eleves"].pk
    # The default, or an order the search cannot take, is no sort (one cache entry).
    assert parse({**around, "sort": "distance"}).sort == ""
    assert parse({"sort": "distance"}).sort == "" and parse({"sort": "relevance"}).sort == ""
    assert parse({"q": "x", "sort": "date"}).sort == "date"
    assert parse({**around, "sort": "relevance"}).order == "relevance"


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"radius_km": "10000"}, "radius_km"),
        ({"page": "-1"}, "page"),
        ({"q": "x" * 513}, "q"),
        ({"domain": "nope"}, "domain"),
        ({"lat": "91", "lng": "2"}, "lat"),
        ({"lat": "45"}, "lat"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"date_from": "hier"}, "date_from"),
        ({"remote": "peut-être"}, "remote"),
        ({"audience": "martians"}, "audience"),
        ({"sort": "price"}, "sort"),
    ],
)
def test_bad_input_names_the_field(raw, field, demo):
    with pytest.raises(InvalidSearch) as invalid:
        parse(raw)
    assert field in invalid.value.fields and field in invalid.value.codes


def test_api_search_and_bad_input(client, catalogue):
    response = client.get("/api/v1/missions?q=eleve&lat=45.76&lng=4.84&radius_km=20")
    assert response.status_code == 200
    body = response.json()
    assert [r["title"] for r in body["results"]] == ["Aide aux devoirs des élèves"]
    assert set(body["facets"]) == {"domain", "activity", "remote", "audience"}
    bad = client.get("/api/v1/missions?radius_km=10000&page=-1")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"radius_km", "page"}
    assert client.get("/api/v1/missions?lat=abc&lng=1").status_code == 400
    assert client.get("/api/v1/missions?q=" + "x" * 600).status_code == 400


def test_the_api_answer_is_exactly_its_documented_schema_cached_or_not(client, catalogue, demo):
    """missions.api.search_body skips pydantic on the hot path: what it writes must be what
    SearchOut would have written (same keys, same values), on a miss, a hit and degraded."""
    url = "/api/v1/missions?lat=45.76&lng=4.84&radius_km=20"
    for _ in ("miss", "hit"):
        response = client.get(url)
        assert response.status_code == 200 and response["Cache-Control"].startswith("public")
        body = response.json()
        assert body["results"] and body == SearchOut.model_validate(body).model_dump(mode="json")
        assert all(set(result) == set(MissionSummaryOut.model_fields) for result in body["results"])
    apply(demo["localhost"], degraded_mode=True)
    degraded = client.get("/api/v1/missions?q=visites").json()
    assert degraded["degraded"] and degraded["count"] is None and degraded["facets"] is None
    assert degraded == SearchOut.model_validate(degraded).model_dump(mode="json")


def test_search_page(client, catalogue):
    page = client.get("/fr/missions/?q=visites")
    assert page.status_code == 200 and "Visites aux personnes âgées" in page.text
    assert page["Cache-Control"].startswith("public")
    assert client.get("/fr/missions/?radius_km=999").status_code == 400


def test_results_are_cached_and_invalidated_when_a_mission_changes(
    catalogue, demo, django_capture_on_commit_callbacks
):
    site = demo["localhost"]
    assert not search(site, parse({"q": "maraude"})).cached
    assert search(site, parse({"q": "maraude"})).cached
    mission = catalogue["marseille"]
    with django_capture_on_commit_callbacks(execute=True):
        mission.title = "Maraude solidaire"
        mission.save()
    fresh = search(site, parse({"q": "maraude"}))
    assert not fresh.cached and fresh.results[0]["title"] == "Maraude solidaire"


def test_degraded_mode_serves_cache_then_a_lighter_query(catalogue, demo):
    site = demo["localhost"]
    warm = search(site, parse({"q": "visites"}))
    apply(site, degraded_mode=True)
    assert search(site, parse({"q": "visites"})).cached
    light = search(site, parse({"q": "eleve"}))
    assert light.degraded and light.count is None and light.facets == {}
    assert ids(light) == [catalogue["eleves"].pk]
    assert warm.count == 1


@pytest.mark.django_db(transaction=True)
def test_the_search_query_uses_its_indexes_on_a_large_table(demo):
    """EXPLAIN over generated data: no sequential scan on missions for text, place and text +
    place; a place is looked up in the GiST index on the point (search/migrations/0004). With
    words too, PostgreSQL ANDs it with the GIN index's bitmap when the box holds many missions
    (the bench's 100,000), or checks the words on the box's few rows (here): its choice."""
    call_command(
        "generate_dataset",
        missions=30000,
        organisations=300,
        volunteers=2000,
        applications=4000,
        verbosity=0,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE missions_mission")
    site = demo["localhost"]
    searches = [
        ({"q": "distribution", "lat": "48.85", "lng": "2.35", "radius_km": "10"}, "mission_place"),
        ({"lat": "45.76", "lng": "4.84", "radius_km": "5"}, "mission_place"),
        ({"q": "soutien scolaire"}, "mission_search"),
    ]
    for raw, index_name in searches:
        sql, params = statement.statement(site, parse(raw))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert not re.search(r"Seq Scan on missions_mission\s", plan), plan
        assert re.search(rf"Index Scan (using|on) {index_name}\b", plan), plan


def test_index_version_bumps(catalogue):
    before = index.version()
    index.bump()
    assert index.version() == before + 1
    assert Params(q="x").key() != Params(q="y").key()


def test_text_search_can_move_to_a_wagtail_search_backend(catalogue, demo, settings):
    """MISSION_SEARCH_BACKEND names a Wagtail backend (Elasticsearch in a large deployment;
    here Wagtail's database backend): text from it, place and filters still in SQL."""
    settings.MISSION_SEARCH_BACKEND = "default"
    call_command("update_index", verbosity=0)
    site = demo["localhost"]
    assert ids(search(site, parse({"q": "devoirs"}))) == [catalogue["eleves"].pk]
    near = search(site, parse({"q": "visites", "lat": "45.76", "lng": "4.84", "radius_km": "10"}))
    assert ids(near) == [catalogue["visites"].pk]
    assert catalogue["past"].pk not in ids(search(site, parse({"q": "collecte"})))


def test_nearby_points_share_a_cache_entry(catalogue, demo):
    """The point is snapped to a grid of about a kilometre: two visitors 300 m apart share
    one answer, 5 km apart they do not."""
    site = demo["localhost"]
    here = {"q": "eleve", "lat": "45.7612", "lng": "4.8412", "radius_km": "10"}
    near = {**here, "lat": "45.7639"}  # 300 m north
    far = {**here, "lat": "45.8062"}  # 5 km north
    assert parse(here).key() == parse(near).key() != parse(far).key()
    first = search(site, parse(here))
    assert not first.cached and ids(first) == [catalogue["eleves"].pk]
    assert search(site, parse(near)).cached
    assert not search(site, parse(far)).cached


def test_radius_postal_code_case_and_page_are_normalised(catalogue, demo):
    site = demo["localhost"]
    # The radius goes up to the next step (the page's, and 1 and 2 km): 7 km is searched as 10.
    around = {"lat": "45.76", "lng": "4.84"}
    assert parse({**around, "radius_km": "7"}).radius_km == 10
    assert parse({**around, "radius_km": "7"}).key() == parse({**around, "radius_km": "10"}).key()
    assert parse({**around, "radius_km": "7"}).key() != parse({**around, "radius_km": "20"}).key()
    # Without a place the radius changes nothing; the text search ignores case.
    assert parse({"q": "Eleve", "radius_km": "50"}).key() == parse({"q": "eleve"}).key()
    # A postal code is searched from the middle of its towns, as that point would be.
    PostalCode.objects.create(code="13098", city="MARSEILLE A", latitude=43.29, longitude=5.37)
    PostalCode.objects.create(code="13098", city="MARSEILLE B", latitude=43.31, longitude=5.39)
    by_code = parse({"postal_code": "13098", "radius_km": "5"})
    assert (by_code.lat, by_code.lng) == (43.3, 5.38)
    assert by_code.key() == parse({"lat": "43.3", "lng": "5.38", "radius_km": "5"}).key()
    assert ids(search(site, by_code)) == [catalogue["marseille"].pk]


def test_facets_are_cached_apart_from_the_page(catalogue, demo, django_assert_num_queries):
    """Another page or another order of the same search reuses its facet counts: only the
    page is computed."""
    site = demo["localhost"]
    first = search(site, parse({"q": "populaire"}))
    assert (
        parse({"q": "populaire", "page": "2"}).facets_key()
        == parse({"q": "populaire"}).facets_key()
    )
    with django_assert_num_queries(1):
        by_date = search(site, parse({"q": "populaire", "sort": "date"}))
    assert not by_date.cached
    assert (by_date.facets, by_date.count) == (first.facets, first.count) and first.count == 4
    assert sorted(ids(by_date)) == sorted(ids(first))
    second = search(site, parse({"q": "populaire", "page": "2"}))
    assert second.results == [] and second.count == 4


def test_the_statement_answers_as_the_orm_query(catalogue, demo):
    """PostgreSQL's one statement (search.statement) and the ORM query the embedded SQLite
    runs give the same page and the same facets."""
    site = demo["localhost"]
    today = timezone.localdate()
    searches = [
        {},
        {"q": "eleve"},
        {"q": "populaire", "sort": "date"},
        {"lat": "45.76", "lng": "4.84", "radius_km": "10"},
        {"q": "populaire", "lat": "45.76", "lng": "4.84", "radius_km": "200", "sort": "relevance"},
        {"remote": "true"},
        {"domain": "sante-test", "activity": "visites-test", "audience": "all"},
        {"date_from": str(today), "date_to": str(today + datetime.timedelta(days=400))},
    ]
    for raw in searches:
        params = parse(raw)
        page, counted = statement.run(site, params)
        missions = queryset(site, params).select_related("organisation", "domain", "activity")
        assert page == [serialize(m) for m in missions[:PAGE_SIZE]], raw
        assert counted == facets(missions), raw


def test_the_copied_listing_columns_follow_every_writer(catalogue, demo):
    """The statement reads the organisation's status and the mission's portals from copies on
    the mission row (search/migrations/0003, PostgreSQL triggers): a status changed with a
    bulk UPDATE, a portal removed or added, a mission moved to another organisation, a mission
    saved by an instance that never read the copies: the statement still answers as the ORM."""
    site, other = demo["localhost"], demo["covid19.localhost"]
    eleves = catalogue["eleves"]

    def both(raw=None):
        params = parse(raw or {"q": "eleve"})
        found = {r["id"] for r in statement.run(site, params)[0]}
        assert found == set(queryset(site, params).values_list("pk", flat=True))
        return found

    assert eleves.pk in both()
    Organisation.objects.filter(pk=eleves.organisation_id).update(
        status=Organisation.Status.SUSPENDED
    )
    assert eleves.pk not in both()
    Organisation.objects.filter(pk=eleves.organisation_id).update(
        status=Organisation.Status.VALIDATED
    )
    assert eleves.pk in both()
    eleves.sites.remove(site)
    assert eleves.pk not in both()
    eleves.sites.add(other, site)
    assert eleves.pk in both()
    refused = make.organisation(site, status=Organisation.Status.REFUSED)
    stale = Mission.objects.get(pk=eleves.pk)  # an instance read before the move
    Mission.objects.filter(pk=eleves.pk).update(organisation=refused)
    assert eleves.pk not in both()
    stale.title = "Aide aux devoirs des élèves (corrigé)"
    stale.save()  # writes its organisation back: the copy follows, nothing stale survives
    assert eleves.pk in both()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT organisation_validated, listed_sites FROM missions_mission WHERE id = %s",
            [eleves.pk],
        )
        assert cursor.fetchone() == (True, sorted([site.pk, other.pk]))
