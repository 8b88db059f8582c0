"""French postal codes: the one rule for reading them, their coordinates, loading La Poste's base.

* ``clean`` is for what people type (the signup and profile forms, the search): five digits
  or nothing, else a ValidationError.
* ``normalise`` is for machine input (La Poste's CSV, geocoding queries): it restores the
  leading zero spreadsheets drop ("1400" -> "01400") and answers None rather than raising.
* ``coordinates`` reads the ``PostalCode`` table that ``load`` fills from a CSV file (the
  official "Base officielle des codes postaux", or the bundled ``SAMPLE``) that ``read``
  parses.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from missions.models import PostalCode

SAMPLE = Path(__file__).resolve().parent / "data" / "postal_codes_sample.csv"

_FORMAT = re.compile(r"\d{5}")
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
