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

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _key(query: str) -> str:
    return " ".join(query.lower().split())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API behind its proxy
    server_version = "FakeBAN/1.0"
    timeout = 10
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client timed out meanwhile

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") != "/search":
            self._send_json(404, {"code": 404, "message": f"Unknown path {url.path}"})
            return
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        status, body, delay = self.server.fake._search(params)
        if delay:
            time.sleep(delay)
        self._send_json(status, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeBan

    def __init__(self, *args: Any, **kwargs: Any):
        self._sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._sockets_lock:
            (self._sockets.add if open_ else self._sockets.discard)(sock)

    def close_client_sockets(self) -> None:
        with self._sockets_lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects during injected delays are expected


class FakeBan:
    """Usage::

    with FakeBan() as ban:
        ban.add("8 boulevard du Port Amiens", 49.8973, 2.2906, postcode="80000")
        settings.BAN_API_URL = ban.url
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.addresses: dict[str, dict] = {}
        self.requests: list[dict] = []
        self._fail_queue: list[int] = []
        self._delay_queue: list[float] = []

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> FakeBan:
        if self._server is None:
            self._server = _Server((self.host, self._port), _Handler)
            self._server.fake = self
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeBan:{self._port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_client_sockets()
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBan:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Value for ``BAN_API_URL`` (searches go to ``url + "search/"``)."""
        return f"http://{self.host}:{self._port}/"

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

    def fail_next(self, n: int, status: int = 500) -> None:
        with self._lock:
            self._fail_queue.extend([status] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        with self._lock:
            self._delay_queue.extend([float(seconds)] * n)

    def reset(self) -> None:
        with self._lock:
            self.addresses.clear()
            self.requests.clear()
            self._fail_queue.clear()
            self._delay_queue.clear()

    # -- the API ------------------------------------------------------------------

    def _search(self, params: dict[str, str]) -> tuple[int, dict, float]:
        with self._lock:
            self.requests.append(params)
            delay = self._delay_queue.pop(0) if self._delay_queue else 0.0
            fail = self._fail_queue.pop(0) if self._fail_queue else None
            known = dict(self.addresses)
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
