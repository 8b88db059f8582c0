"""Geocoding: BAN client against a fake BAN, postal-code fallback, loading La Poste's base."""

import time
import uuid

import pytest
from django.core.management import call_command
from wagtail.models import Site

from missions import geocoding, postcodes
from missions.geocoding import (
    BanGeocoder,
    GeocodingUnavailable,
    Point,
    PostalCodeGeocoder,
    geocode_mission,
    get_geocoder,
)
from missions.models import Mission, PostalCode
from organisations.models import Organisation
from tests.fake_ban import FakeBan

pytestmark = pytest.mark.django_db

AMIENS = ("8 boulevard du Port", "80000", "Amiens")
AMIENS_LAT, AMIENS_LON = 49.897442, 2.290084


@pytest.fixture
def ban(settings, monkeypatch):
    with FakeBan() as fake:
        fake.add(
            "8 boulevard du Port Amiens",
            AMIENS_LAT,
            AMIENS_LON,
            label="8 Boulevard du Port 80000 Amiens",
            postcode="80000",
        )
        settings.GEOCODER = "missions.geocoding.BanGeocoder"
        settings.BAN_API_URL = fake.url
        settings.GEOCODER_TIMEOUT = 1
        settings.GEOCODER_RETRIES = 2
        monkeypatch.setattr(BanGeocoder, "backoff", 0.01)
        yield fake


@pytest.fixture(autouse=True)
def empty_postal_codes(db):
    """The demo data loads the sample; each test here starts from an empty table."""
    PostalCode.objects.all().delete()


@pytest.fixture
def postal_codes():
    return postcodes.load(postcodes.SAMPLE)


# --- BanGeocoder -------------------------------------------------------------------------------


def test_ban_found_address_is_a_point_with_latitude_first(ban):
    point = BanGeocoder().geocode(*AMIENS)

    assert point == Point(AMIENS_LAT, AMIENS_LON, "8 Boulevard du Port 80000 Amiens", 0.95)
    assert ban.requests == [{"q": "8 boulevard du Port Amiens", "postcode": "80000", "limit": "1"}]


def test_ban_reads_its_settings(ban, settings):
    settings.GEOCODER_TIMEOUT = 0.7
    settings.GEOCODER_RETRIES = 4
    geocoder = get_geocoder()

    assert isinstance(geocoder, BanGeocoder)
    assert geocoder.search_url == ban.url + "search/"
    assert (geocoder.timeout, geocoder.retries) == (0.7, 4)


def test_ban_low_score_is_not_found(ban):
    ban.add("1 rue Vague Amiens", 49.9, 2.3, score=0.39, postcode="80000")

    assert BanGeocoder().geocode("1 rue Vague", "80000", "Amiens") is None
    assert len(ban.requests) == 1


def test_ban_unknown_address_is_not_found(ban):
    assert BanGeocoder().geocode("999 rue Inconnue", "80000", "Amiens") is None


def test_ban_5xx_is_retried(ban):
    ban.fail_next(2, 500)

    point = BanGeocoder().geocode(*AMIENS)

    assert (point.latitude, point.longitude) == (AMIENS_LAT, AMIENS_LON)
    assert len(ban.requests) == 3


def test_ban_429_is_retried(ban):
    ban.fail_next(1, 429)

    assert BanGeocoder().geocode(*AMIENS) is not None
    assert len(ban.requests) == 2


def test_ban_5xx_beyond_retries_is_unavailable(ban):
    ban.fail_next(3, 503)

    with pytest.raises(GeocodingUnavailable, match="HTTP 503"):
        BanGeocoder().geocode(*AMIENS)
    assert len(ban.requests) == 3


def test_ban_timeout_beyond_retries_is_unavailable(ban, settings):
    settings.GEOCODER_TIMEOUT = 0.2
    settings.GEOCODER_RETRIES = 1
    ban.delay_next(2, 1.0)

    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable, match="timeout"):
        BanGeocoder().geocode(*AMIENS)
    assert time.monotonic() - started < 0.9  # bounded by the timeout, not by BAN
    assert len(ban.requests) == 2


def test_ban_timeout_then_answer(ban, settings):
    settings.GEOCODER_TIMEOUT = 0.2
    ban.delay_next(1, 1.0)

    assert BanGeocoder().geocode(*AMIENS) is not None


def test_ban_connection_refused_is_unavailable(settings, monkeypatch):
    with FakeBan() as fake:
        url = fake.url  # a port nobody listens on once stopped
    settings.BAN_API_URL = url
    settings.GEOCODER_RETRIES = 1
    monkeypatch.setattr(BanGeocoder, "backoff", 0.01)

    with pytest.raises(GeocodingUnavailable, match="connection"):
        BanGeocoder().geocode(*AMIENS)


def test_ban_4xx_is_not_found_without_retry(ban):
    ban.fail_next(1, 400)

    assert BanGeocoder().geocode(*AMIENS) is None
    assert len(ban.requests) == 1


def test_ban_is_not_asked_an_empty_query(ban):
    assert BanGeocoder().geocode("", "", "") is None
    assert BanGeocoder().geocode(" ", "75001", "") is None
    assert ban.requests == []


def test_ban_skips_a_malformed_postal_code(ban):
    point = BanGeocoder().geocode("8 boulevard du Port", "80-000", "Amiens")

    assert point is not None
    assert "postcode" not in ban.requests[0]


# --- PostalCode table --------------------------------------------------------------------------


def test_load_sample_is_idempotent(postal_codes):
    assert postal_codes >= 40
    assert PostalCode.objects.count() == postal_codes
    PostalCode.objects.filter(code="69007").update(latitude=0, longitude=0)

    assert postcodes.load(postcodes.SAMPLE) == postal_codes
    assert PostalCode.objects.count() == postal_codes
    assert PostalCode.objects.get(code="69007").latitude == pytest.approx(45.75, abs=0.05)


def test_load_la_poste_format(tmp_path):
    path = tmp_path / "laposte_hexasmal.csv"
    path.write_text(
        "Code_commune_INSEE;Nom_de_la_commune;Code_postal;Libellé_d_acheminement;Ligne_5;"
        "coordonnees_gps\n"
        "80021;AMIENS;80000;AMIENS;;49.9009, 2.2908\n"
        "80021;AMIENS;80090;AMIENS;;49.8786,2.3213\n"
        "74010;ANNECY;74370;ANNECY;PRINGY;45.9463, 6.1167\n"
        "74010;ANNECY;74370;ANNECY;METZ TESSY;45.9340, 6.1036\n"  # same (code, city): once
        "1053;BOURG EN BRESSE;1000;BOURG EN BRESSE;;46.2052, 5.2255\n"  # zeros lost by Excel
        "99138;MONACO;98000;MONACO;;\n",  # no coordinates: skipped
        encoding="utf-8",
    )

    assert postcodes.load(path) == 4
    rows = {(r.code, r.city): (r.latitude, r.longitude) for r in PostalCode.objects.all()}
    assert rows == {
        ("80000", "AMIENS"): (49.9009, 2.2908),
        ("80090", "AMIENS"): (49.8786, 2.3213),
        ("74370", "ANNECY"): (45.9463, 6.1167),
        ("01000", "BOURG EN BRESSE"): (46.2052, 5.2255),
    }


def test_load_la_poste_format_in_latin1_with_hash_header(tmp_path):
    path = tmp_path / "laposte.csv"
    path.write_bytes(
        "#Code_commune_INSEE;Nom_de_la_commune;Code_postal;Libellé_d_acheminement;Ligne_5;"
        "coordonnees_gps\r\n"
        "42218;ST ETIENNE;42000;ST ETIENNE;;45.4347, 4.3903\r\n".encode("latin-1")
    )

    assert postcodes.load(path) == 1
    assert PostalCode.objects.get(code="42000").city == "ST ETIENNE"


def test_load_simple_format(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "code,city,latitude,longitude\n"
        "80000,Amiens,49.9009,2.2908\n"
        "97400,Saint-Denis,-20.8823,55.4504\n"
        "12345,Nowhere,,\n",
        encoding="utf-8",
    )

    assert postcodes.load(path) == 2
    assert PostalCode.objects.get(code="97400").longitude == 55.4504


def test_load_refuses_an_unknown_format(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("zip;town\n80000;Amiens\n", encoding="utf-8")

    with pytest.raises(ValueError, match="Unknown CSV header"):
        postcodes.load(path)


def test_command_loads_the_sample_by_default(capsys):
    call_command("load_postal_codes")

    assert "Loaded 44 postal codes" in capsys.readouterr().out


def test_coordinates_for_postal_code(postal_codes):
    latitude, longitude = postcodes.coordinates("69007")

    assert latitude == pytest.approx(45.7, abs=0.1)
    assert longitude == pytest.approx(4.8, abs=0.1)
    assert postcodes.coordinates(" 75001 ") == pytest.approx((48.86, 2.34), abs=0.01)
    assert postcodes.coordinates("99999") is None
    assert postcodes.coordinates("") is None
    assert postcodes.coordinates("7500A") is None


def test_postal_code_geocoder_matches_the_city(postal_codes):
    geocoder = PostalCodeGeocoder()

    # Two towns share 01000; accents, case, hyphens and "Saint"/"ST" do not matter.
    bourg = geocoder.geocode("", "01000", "Bourg-en-Bresse")
    saint_denis = geocoder.geocode("1 rue X", "01000", "Saint-Denis-lès-Bourg")
    assert bourg.label == "01000 BOURG EN BRESSE"
    assert saint_denis.label == "01000 ST DENIS LES BOURG"
    assert saint_denis.longitude == pytest.approx(5.19, abs=0.01)
    # An arrondissement matches its city; an unknown city falls back to the code's first row.
    assert geocoder.geocode("", "69007", "Lyon").label == "69007 LYON 07"
    assert geocoder.geocode("", "01000", "Typo-ville").label == "01000 BOURG EN BRESSE"
    # No usable code: the town name alone.
    assert geocoder.geocode("", "", "Nantes").label == "44000 NANTES"
    assert geocoder.geocode("", "99999", "Nantes") is None
    assert geocoder.geocode("", "", "") is None


# --- geocode_mission ---------------------------------------------------------------------------


def make_mission(**fields):
    """A mission written with bulk_create: no save(), so no geocoding task is queued."""
    suffix = uuid.uuid4().hex[:8]
    organisation = Organisation.objects.create(
        site=Site.objects.first(), name="Asso", slug=f"asso-{suffix}"
    )
    (mission,) = Mission.objects.bulk_create(
        [
            Mission(
                organisation=organisation,
                title="Distribution",
                slug=f"mission-{suffix}",
                description="Aide",
                **fields,
            )
        ]
    )
    return mission


def reload(mission):
    mission.refresh_from_db()
    return mission


def test_geocode_mission_found_by_ban(ban, postal_codes):
    mission = make_mission(address="8 boulevard du Port", postal_code="80000", city="Amiens")

    assert geocode_mission(mission.pk) == "ok"

    mission = reload(mission)
    assert (mission.latitude, mission.longitude) == (AMIENS_LAT, AMIENS_LON)
    assert mission.geocode_status == "ok"
    assert mission.geocoded_at is not None


def test_geocode_mission_falls_back_to_the_town_centre(ban, postal_codes):
    mission = make_mission(address="Lieu-dit inconnu", postal_code="69007", city="Lyon")

    assert geocode_mission(mission.pk) == "ok"

    mission = reload(mission)
    assert (mission.latitude, mission.longitude) == pytest.approx((45.7457, 4.8421))
    assert len(ban.requests) == 1


def test_geocode_mission_not_found(ban, postal_codes):
    mission = make_mission(
        address="Nulle part", postal_code="99999", city="Ailleurs", latitude=1.0, longitude=2.0
    )

    assert geocode_mission(mission.pk) == "not_found"

    mission = reload(mission)
    assert mission.geocode_status == "not_found"
    assert (mission.latitude, mission.longitude) == (None, None)  # stale coordinates dropped


def test_geocode_remote_mission_asks_nobody(ban):
    mission = make_mission(is_remote=True, latitude=1.0, longitude=2.0, geocode_status="ok")

    assert geocode_mission(mission.pk) == "remote"

    mission = reload(mission)
    assert (mission.geocode_status, mission.latitude, mission.longitude) == ("", None, None)
    assert ban.requests == []


def test_geocode_mission_ban_unavailable(ban, postal_codes, settings):
    settings.GEOCODER_RETRIES = 1
    ban.fail_next(2, 502)
    mission = make_mission(address="8 boulevard du Port", postal_code="75007", city="Paris")

    with pytest.raises(GeocodingUnavailable):
        geocode_mission(mission.pk)

    mission = reload(mission)
    assert mission.geocode_status == "failed"
    # Findable near the town centre until the task's retry succeeds.
    assert (mission.latitude, mission.longitude) == pytest.approx((48.8562, 2.3122))


def test_geocode_deleted_mission(ban):
    mission = make_mission(postal_code="80000", city="Amiens")
    type(mission).objects.filter(pk=mission.pk).delete()

    assert geocode_mission(mission.pk) == "missing"


class EditingGeocoder(geocoding.Geocoder):
    """The mission's address is edited while the geocoder is answering."""

    def geocode(self, address, postal_code, city):
        Mission.objects.filter(address=address).update(address="2 place Nouvelle")
        return Point(1.0, 2.0, "old address", 0.9)


def test_geocode_mission_does_not_overwrite_a_newer_edit(settings):
    settings.GEOCODER = "tests.test_geocoding.EditingGeocoder"
    mission = make_mission(address="1 rue Ancienne", postal_code="80000", city="Amiens")

    assert geocode_mission(mission.pk) == "stale"

    mission = reload(mission)
    assert (mission.address, mission.latitude, mission.geocode_status) == (
        "2 place Nouvelle",
        None,
        "",
    )
