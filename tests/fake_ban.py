"""In-process fake of the Base Adresse Nationale search API (``GET /search/``).

Answers GeoJSON like https://api-adresse.data.gouv.fr/search/ for the addresses it was
taught, an empty FeatureCollection otherwise. Set ``BAN_API_URL = fake.url``.

* ``add(query, lat, lon, ...)`` teaches an address; ``query`` is matched against ``q``
  case- and whitespace-insensitively (the geocoder sends "<address> <city>"), and
  ``postcode``, when given to both, must agree.
* Like BAN, ``q`` shorter than 3 characters or a malformed ``postcode`` gets a 400.
* ``fail_next(n, status)`` answers ``status`` to the next n searches; ``delay_next(n,
  seconds)`` sleeps before answering them (client timeouts).
* ``requests`` records every search's query parameters, failed ones included.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

from tests.fake_http import FakeService, JsonHandler


def _key(query: str) -> str:
    return " ".join(query.lower().split())


class _Handler(JsonHandler):
    server_version = "FakeBAN/1.0"
    timeout = 10

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") != "/search":
            self.send_json(404, {"code": 404, "message": f"Unknown path {url.path}"})
            return
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        status, body, delay = self.fake._search(params)
        if delay:
            time.sleep(delay)
        self.send_json(status, body)


class FakeBan(FakeService):
    """Usage::

    with FakeBan() as ban:
        ban.add("8 boulevard du Port Amiens", 49.8973, 2.2906, postcode="80000")
        settings.BAN_API_URL = ban.url
    """

    handler = _Handler

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.addresses: dict[str, dict] = {}
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        """Value for ``BAN_API_URL`` (searches go to ``url + "search/"``)."""
        return self.base_url

    # -- control ------------------------------------------------------------------

    def add(
        self,
        query: str,
        latitude: float,
        longitude: float,
        *,
        score: float = 0.95,
        label: str | None = None,
        postcode: str | None = None,
    ) -> None:
        with self._lock:
            self.addresses[_key(query)] = {
                "latitude": latitude,
                "longitude": longitude,
                "score": score,
                "label": label or query,
                "postcode": postcode,
            }

    def reset(self) -> None:
        with self._lock:
            self.addresses.clear()
            self.requests.clear()
            self._clear_injections()

    # -- the API ------------------------------------------------------------------

    def _search(self, params: dict[str, str]) -> tuple[int, dict, float]:
        with self._lock:
            self.requests.append(params)
            known = dict(self.addresses)
        delay, fail = self._take_injections()
        if fail is not None:
            return fail, {"code": fail, "message": f"Injected HTTP {fail}"}, delay
        query = params.get("q", "").strip()
        if not 3 <= len(query) <= 200 or not query[0].isalnum():
            message = "q must contain between 3 and 200 chars and start with a number or a letter"
            return 400, {"code": 400, "message": message}, delay
        postcode = params.get("postcode")
        if postcode is not None and not re.fullmatch(r"\d[0-9AB]\d{3}", postcode):
            return 400, {"code": 400, "message": "Invalid postcode"}, delay
        entry = known.get(_key(query))
        if entry and postcode and entry["postcode"] and entry["postcode"] != postcode:
            entry = None
        features = []
        if entry:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [entry["longitude"], entry["latitude"]],  # lon, lat
                    },
                    "properties": {
                        "label": entry["label"],
                        "score": entry["score"],
                        "postcode": entry["postcode"] or postcode or "",
                        "type": "housenumber",
                    },
                }
            )
        body = {
            "type": "FeatureCollection",
            "version": "draft",
            "features": features,
            "attribution": "BAN",
            "licence": "ETALAB-2.0",
            "query": query,
            "limit": int(params.get("limit") or 5),
        }
        return 200, body, delay
