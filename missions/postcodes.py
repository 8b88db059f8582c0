"""French postal codes: the one rule for reading them, their coordinates, loading La Poste's base.

* ``clean`` is for what people type (the signup and profile forms, the search): five digits
  or nothing, else a ValidationError.
* ``normalise`` is for machine input (La Poste's CSV, geocoding queries): it restores the
  leading zero spreadsheets drop ("1400" -> "01400") and answers None rather than raising.
* ``coordinates`` reads the ``PostalCode`` table that ``load`` fills from a CSV file (the
  official "Base officielle des codes postaux", or the bundled ``SAMPLE``) that ``read``
  parses; ``centre`` gives the middle of all the towns of a code, cached (mission search).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg
from django.utils.translation import gettext_lazy as _

from missions.models import PostalCode

SAMPLE = Path(__file__).resolve().parent / "data" / "postal_codes_sample.csv"

_FORMAT = re.compile(r"\d{5}")
CENTRE_TTL = 24 * 3600  # the table changes when ops load a new base: rarely
_BATCH_SIZE = 5000


def clean(value: str) -> str:
    """The code without surrounding spaces; empty stays empty (the field says if required)."""
    value = (value or "").strip()
    if value and not _FORMAT.fullmatch(value):
        raise ValidationError(_("Enter a 5-digit French postal code."), code="invalid")
    return value


def normalise(code: str) -> str | None:
    code = (code or "").strip()
    if code.isdigit() and len(code) < 5:
        code = code.zfill(5)  # spreadsheets drop the leading zero of "01400"
    return code if _FORMAT.fullmatch(code) else None


def coordinates(code: str) -> tuple[float, float] | None:
    """(latitude, longitude) of the first town of a postal code, or None if unknown."""
    code = normalise(code)
    if not code:
        return None
    row = (
        PostalCode.objects.filter(code=code)
        .order_by("pk")
        .values_list("latitude", "longitude")
        .first()
    )
    return tuple(row) if row else None


def centre(code: str) -> tuple[float, float] | None:
    """The middle of the towns of a postal code, or None if unknown. Searches around a postal
    code all start from this one point (one cache entry per code, whichever town is meant);
    cached, so that a cached search around a postal code costs no database query."""
    code = normalise(code)
    if not code:
        return None
    key = f"postcodes:centre:{code}"
    found = cache.get(key)  # a Redis outage is a miss
    if found is None:
        middle = PostalCode.objects.filter(code=code).aggregate(
            latitude=Avg("latitude"), longitude=Avg("longitude")
        )
        if middle["latitude"] is None:
            return None  # not cached: a code loaded later is found at once
        found = (middle["latitude"], middle["longitude"])
        cache.set(key, found, CENTRE_TTL)
    return tuple(found)


# --- Départements ---------------------------------------------------------------------------

DEPARTEMENTS = {
    "01": "Ain",
    "02": "Aisne",
    "03": "Allier",
    "04": "Alpes-de-Haute-Provence",
    "05": "Hautes-Alpes",
    "06": "Alpes-Maritimes",
    "07": "Ardèche",
    "08": "Ardennes",
    "09": "Ariège",
    "10": "Aube",
    "11": "Aude",
    "12": "Aveyron",
    "13": "Bouches-du-Rhône",
    "14": "Calvados",
    "15": "Cantal",
    "16": "Charente",
    "17": "Charente-Maritime",
    "18": "Cher",
    "19": "Corrèze",
    "2A": "Corse-du-Sud",
    "2B": "Haute-Corse",
    "21": "Côte-d'Or",
    "22": "Côtes-d'Armor",
    "23": "Creuse",
    "24": "Dordogne",
    "25": "Doubs",
    "26": "Drôme",
    "27": "Eure",
    "28": "Eure-et-Loir",
    "29": "Finistère",
    "30": "Gard",
    "31": "Haute-Garonne",
    "32": "Gers",
    "33": "Gironde",
    "34": "Hérault",
    "35": "Ille-et-Vilaine",
    "36": "Indre",
    "37": "Indre-et-Loire",
    "38": "Isère",
    "39": "Jura",
    "40": "Landes",
    "41": "Loir-et-Cher",
    "42": "Loire",
    "43": "Haute-Loire",
    "44": "Loire-Atlantique",
    "45": "Loiret",
    "46": "Lot",
    "47": "Lot-et-Garonne",
    "48": "Lozère",
    "49": "Maine-et-Loire",
    "50": "Manche",
    "51": "Marne",
    "52": "Haute-Marne",
    "53": "Mayenne",
    "54": "Meurthe-et-Moselle",
    "55": "Meuse",
    "56": "Morbihan",
    "57": "Moselle",
    "58": "Nièvre",
    "59": "Nord",
    "60": "Oise",
    "61": "Orne",
    "62": "Pas-de-Calais",
    "63": "Puy-de-Dôme",
    "64": "Pyrénées-Atlantiques",
    "65": "Hautes-Pyrénées",
    "66": "Pyrénées-Orientales",
    "67": "Bas-Rhin",
    "68": "Haut-Rhin",
    "69": "Rhône",
    "70": "Haute-Saône",
    "71": "Saône-et-Loire",
    "72": "Sarthe",
    "73": "Savoie",
    "74": "Haute-Savoie",
    "75": "Paris",
    "76": "Seine-Maritime",
    "77": "Seine-et-Marne",
    "78": "Yvelines",
    "79": "Deux-Sèvres",
    "80": "Somme",
    "81": "Tarn",
    "82": "Tarn-et-Garonne",
    "83": "Var",
    "84": "Vaucluse",
    "85": "Vendée",
    "86": "Vienne",
    "87": "Haute-Vienne",
    "88": "Vosges",
    "89": "Yonne",
    "90": "Territoire de Belfort",
    "91": "Essonne",
    "92": "Hauts-de-Seine",
    "93": "Seine-Saint-Denis",
    "94": "Val-de-Marne",
    "95": "Val-d'Oise",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
}


def departement(code: str) -> str | None:
    """The département a postal code belongs to: its first two digits, "2A"/"2B" in Corsica
    (20000-20199 / 20200 and up) and three digits overseas (97x, 98x). A few towns carry a
    neighbouring département's code: close enough for statistics, not for administration."""
    code = normalise(code)
    if not code:
        return None
    if code.startswith(("97", "98")):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:2]


def departement_order(code: str) -> tuple[int, str]:
    """Sort key in the usual order: 01 … 19, 2A, 2B, 21 … 95, 971 …"""
    return (int(code[:2]) if code[:2].isdigit() else 20, code)


# --- Loading La Poste's base ------------------------------------------------------------------


def _header_key(name: str) -> str:
    name = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff#").strip())
    return "".join(c for c in name if not unicodedata.combining(c)).lower()


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")  # older La Poste files are Latin-1/Windows-1252


def _parse_float(value: str) -> float | None:
    try:
        return float((value or "").strip())
    except ValueError:
        return None


def read(path: str | PathLike) -> Iterator[tuple[str, str, float, float]]:
    """(code, city, latitude, longitude) of each usable row of a CSV file in either format."""
    text = _read_text(Path(path))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_header_key(h) for h in next(reader, [])]

    def column(*names: str) -> int | None:
        for name in names:
            if name in header:
                return header.index(name)
        return None

    code_col = column("code_postal", "code")
    city_col = column("nom_de_la_commune", "nom_commune", "city")
    gps_col = column("coordonnees_gps")
    lat_col, lon_col = column("latitude"), column("longitude")
    if code_col is None or city_col is None or (gps_col is None and None in (lat_col, lon_col)):
        raise ValueError(
            "Unknown CSV header: expected La Poste's "
            "'Code_commune_INSEE;Nom_de_la_commune;Code_postal;...;coordonnees_gps' "
            f"or 'code,city,latitude,longitude', got {first_line.strip()[:120]!r}"
        )

    for row in reader:
        try:
            code, city = row[code_col], row[city_col]
            if gps_col is not None:
                lat_text, _comma, lon_text = row[gps_col].partition(",")
            else:
                lat_text, lon_text = row[lat_col], row[lon_col]
        except IndexError:
            continue
        code, city = normalise(code), " ".join(city.split())[:150]
        latitude, longitude = _parse_float(lat_text), _parse_float(lon_text)
        if not code or not city or latitude is None or longitude is None:
            continue
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            continue
        yield code, city, latitude, longitude


def load(path: str | PathLike) -> int:
    """Upsert the postal codes of a CSV file; return the number of rows loaded.

    Accepts La Poste's "Base officielle des codes postaux" (semicolon-separated,
    ``coordonnees_gps`` = "lat,lon") or a simple ``code,city,latitude,longitude`` CSV.
    Rows without coordinates are skipped; a (code, city) repeated in the file (La Poste
    lists a town once per ``Ligne_5`` locality) is kept once. Idempotent.
    """
    rows: dict[tuple[str, str], PostalCode] = {}
    for code, city, latitude, longitude in read(path):
        if (code, city) not in rows:
            rows[code, city] = PostalCode(
                code=code, city=city, latitude=latitude, longitude=longitude
            )
    objs = list(rows.values())
    with transaction.atomic():
        for start in range(0, len(objs), _BATCH_SIZE):
            PostalCode.objects.bulk_create(
                objs[start : start + _BATCH_SIZE],
                update_conflicts=True,
                unique_fields=["code", "city"],
                update_fields=["latitude", "longitude"],
            )
    return len(objs)
