"""Geocoding of missions: France's national address API (BAN) with an offline fallback.

* ``BanGeocoder`` asks the Base Adresse Nationale (``GET {BAN_API_URL}search/``).
  Timeouts, connection errors, 5xx and 429 are retried with a short backoff, then
  ``GeocodingUnavailable`` is raised so the Celery task can retry later. A 4xx (bad
  query), no result or a low score means "not found" (``None``).
* ``PostalCodeGeocoder`` answers from the ``PostalCode`` table (La Poste's official
  postal codes, see ``missions.postcodes``): the centre of the town, an approximation
  used when BAN does not know the address.

Settings (all optional): ``GEOCODER`` (dotted path, default ``BanGeocoder``),
``BAN_API_URL``, ``GEOCODER_TIMEOUT`` (seconds per attempt), ``GEOCODER_RETRIES``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from missions import postcodes
from missions.models import Mission, PostalCode

logger = logging.getLogger(__name__)

DEFAULT_GEOCODER = "missions.geocoding.BanGeocoder"
DEFAULT_BAN_API_URL = "https://api-adresse.data.gouv.fr/"


@dataclass
class Point:
    latitude: float
    longitude: float
    label: str
    score: float


class GeocodingUnavailable(Exception):
    """The geocoding service could not answer (timeout, 5xx, connection error)."""


class Geocoder:
    def geocode(self, address: str, postal_code: str, city: str) -> Point | None:
        """Return the location, ``None`` if not found; raise ``GeocodingUnavailable``."""
        raise NotImplementedError


def normalise_city(name: str) -> str:
    """Case, accents and punctuation-insensitive form: "Saint-Étienne" -> "st etienne"."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    # La Poste abbreviates: "ST DENIS", "STE MARIE".
    return " ".join({"saint": "st", "sainte": "ste"}.get(w, w) for w in words)


# --- BAN --------------------------------------------------------------------------------------

_sessions = threading.local()


def _shared_session() -> requests.Session:
    """One session per thread, so repeated geocodings reuse the HTTPS connection."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = "portal-geocoder/1.0"
        _sessions.session = session
    return session


class BanGeocoder(Geocoder):
    """Base Adresse Nationale: https://adresse.data.gouv.fr/outils/api-doc/adresse"""

    min_score = 0.4  # below this BAN is guessing
    backoff = 0.2  # seconds before the first retry, doubled each time
    max_query_length = 200  # BAN answers 400 to longer queries

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        session: requests.Session | None = None,
    ):
        base_url = base_url or getattr(settings, "BAN_API_URL", DEFAULT_BAN_API_URL)
        self.search_url = base_url.rstrip("/") + "/search/"
        self.timeout = float(
            timeout if timeout is not None else getattr(settings, "GEOCODER_TIMEOUT", 3)
        )
        self.retries = max(
            0, int(retries if retries is not None else getattr(settings, "GEOCODER_RETRIES", 2))
        )
        self.session = session or _shared_session()

    def geocode(self, address: str, postal_code: str, city: str) -> Point | None:
        query = " ".join(
            " ".join(part.split()) for part in (address, city) if part and part.strip()
        )
        query = query[: self.max_query_length].strip()
        if len(query) < 3:
            return None  # BAN refuses it; nothing to ask
        params = {"q": query, "limit": 1}
        code = postcodes.normalise(postal_code)
        if code:
            params["postcode"] = code
        data = self._get(params)
        return self._parse(data, query)

    def _get(self, params: dict) -> dict | None:
        """JSON body of a 200, ``None`` for a 4xx; retries, then GeocodingUnavailable."""
        attempt = 0
        while True:
            try:
                response = self.session.get(self.search_url, params=params, timeout=self.timeout)
                status = response.status_code
                if status == 200:
                    return response.json()
                if 400 <= status < 500 and status != 429:
                    logger.info("BAN refused %r: HTTP %s", params.get("q"), status)
                    return None
                problem = f"HTTP {status}"
            except requests.Timeout:
                problem = "timeout"
            except requests.ConnectionError as err:
                problem = f"connection error: {err}"
            except ValueError:  # a 200 that is not JSON: a broken proxy, not an answer
                problem = "invalid JSON"
            if attempt >= self.retries:
                raise GeocodingUnavailable(
                    f"BAN unavailable after {attempt + 1} attempt(s): {problem}"
                )
            time.sleep(self.backoff * 2**attempt)
            attempt += 1

    def _parse(self, data: dict | None, query: str) -> Point | None:
        try:
            features = (data or {}).get("features") or []
            if not features:
                return None
            feature = features[0]
            properties = feature.get("properties") or {}
            longitude, latitude = feature["geometry"]["coordinates"][:2]
            score = float(properties.get("score") or 0.0)
            point = Point(
                latitude=float(latitude),
                longitude=float(longitude),
                label=str(properties.get("label") or query),
                score=score,
            )
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            logger.warning("BAN: unexpected answer for %r", query)
            return None
        if score < self.min_score:
            logger.info("BAN: score %.2f too low for %r (%s)", score, query, point.label)
            return None
        return point


# --- Offline: La Poste's postal codes ---------------------------------------------------------


class PostalCodeGeocoder(Geocoder):
    """Town centre from the PostalCode table; the address itself is ignored."""

    city_score = 0.5  # right town, approximate position
    code_score = 0.3  # right postal code, maybe another town sharing it

    def geocode(self, address: str, postal_code: str, city: str) -> Point | None:
        code = postcodes.normalise(postal_code)
        wanted = normalise_city(city)
        if code:
            rows = list(PostalCode.objects.filter(code=code).order_by("pk"))
        elif wanted:  # no usable code: the town name alone
            rows = list(PostalCode.objects.filter(city__iexact=city.strip()).order_by("pk"))
        else:
            return None
        if not rows:
            return None
        if wanted:
            names = [(normalise_city(row.city), row) for row in rows]
            # Exact name, then an arrondissement of it ("Lyon" -> "LYON 07").
            for name, row in names:
                if name == wanted:
                    return self._point(row, self.city_score)
            for name, row in names:
                if name.startswith(wanted + " ") and name[len(wanted) + 1 :].isdigit():
                    return self._point(row, self.city_score)
        return self._point(rows[0], self.code_score if code else self.city_score)

    @staticmethod
    def _point(row, score: float) -> Point:
        return Point(row.latitude, row.longitude, f"{row.code} {row.city}", score)


def get_geocoder() -> Geocoder:
    return import_string(getattr(settings, "GEOCODER", DEFAULT_GEOCODER))()


# --- Missions ---------------------------------------------------------------------------------


def geocode_mission(mission_id: int) -> str:
    """Geocode one mission and store the result; return the status.

    Returns "remote", "ok", "not_found", or "missing" (mission deleted) / "stale" (its
    location was edited meanwhile: the newer edit's geocoding wins, nothing is written).
    Raises GeocodingUnavailable after storing status "failed" (and the town centre, when
    known, so that the mission is findable until the retry succeeds).
    Writes with ``update()``: ``save()`` would queue another geocoding.
    """
    mission = Mission.objects.filter(pk=mission_id).first()
    if mission is None:
        logger.info("geocode_mission: mission %s no longer exists", mission_id)
        return "missing"
    # Only write if the location is still the one geocoded here.
    current = Mission.objects.filter(
        pk=mission.pk,
        is_remote=mission.is_remote,
        address=mission.address,
        postal_code=mission.postal_code,
        city=mission.city,
    )

    if mission.is_remote:
        current.update(latitude=None, longitude=None, geocode_status="", geocoded_at=None)
        return "remote"

    location = (mission.address, mission.postal_code, mission.city)
    try:
        point = get_geocoder().geocode(*location)
    except GeocodingUnavailable:
        fields = {"geocode_status": "failed", "geocoded_at": timezone.now()}
        approximate = PostalCodeGeocoder().geocode(*location)
        if approximate is not None:
            fields.update(latitude=approximate.latitude, longitude=approximate.longitude)
        current.update(**fields)
        raise

    if point is None:
        point = PostalCodeGeocoder().geocode(*location)
    status = "ok" if point is not None else "not_found"
    updated = current.update(
        latitude=point.latitude if point else None,
        longitude=point.longitude if point else None,
        geocode_status=status,
        geocoded_at=timezone.now(),
    )
    return status if updated else "stale"
