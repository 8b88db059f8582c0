"""In-process fake of Brevo's transactional email API (``POST /v3/smtp/email``).

django-anymail's Brevo backend talks to it over real HTTP on loopback, so tests and
the benchmark exercise the exact request/response path used in production (JSON
serialisation, ``api-key`` header, status handling, timeouts, connection reuse)
without sending mail. Set ``ANYMAIL["BREVO_API_URL"] = fake.url``.

Semantics worth knowing:

* One recorded message per Brevo message id: a single send (any number of
  to/cc/bcc) is one message; a batch send (``messageVersions``) is one message per
  version.
* ``delay_next`` models "Brevo accepted the mail but the answer arrived too late":
  the message is validated and recorded *before* the sleep, so a client timeout does
  not mean the mail was not sent. That is why senders need idempotency keys, and why
  ``duplicates`` exists.
* ``fail_next`` answers before any processing: nothing is recorded.
* A recipient without "@" or in the reserved ``.invalid`` TLD gets Brevo's permanent
  ``400 invalid_parameter`` (use ``someone@example.invalid`` to test that path).
* ``requests_count`` counts every request to the API paths (failed ones included);
  calls to the ``/_fake/`` control API are not counted, so reading stats does not
  skew them.

Run standalone (benchmark, ``make demo``)::

    python -m tests.fake_brevo --port 8025 [--api-key K] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from typing import Any

from tests.fake_http import FakeService, JsonHandler

API_PREFIX = "/v3/"
SEND_PATH = "/v3/smtp/email"
CONTROL_PREFIX = "/_fake/"
IDEMPOTENCY_HEADER = "x-idempotency-key"

# Brevo-like error bodies for injected failures.
_ERROR_BODIES = {
    429: {"code": "too_many_requests", "message": "Too many requests, retry later"},
    500: {"code": "internal_error", "message": "Internal server error"},
    502: {"code": "bad_gateway", "message": "Bad gateway"},
    503: {"code": "service_unavailable", "message": "Service temporarily unavailable"},
    504: {"code": "gateway_timeout", "message": "Gateway timeout"},
}


class BadRequest(Exception):
    """Validation failure, turned into a Brevo-like 4xx JSON answer."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _is_valid_email(value: Any) -> bool:
    # anymail already rejects addresses without "@" client-side, so to let tests
    # trigger Brevo's permanent 400 through anymail, the reserved ".invalid" TLD
    # (RFC 2606) is refused too. "@localhost" stays valid: the demo data uses it.
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        return False
    return domain.lower().rstrip(".").rpartition(".")[2] != "invalid"


def _lower_keys(headers: dict) -> dict:
    return {str(k).lower(): v for k, v in headers.items()}


class _Handler(JsonHandler):
    server_version = "FakeBrevo/1.0"

    def setup(self) -> None:
        super().setup()
        self.fake._count_connection()

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        path = self.path.split("?", 1)[0]
        is_control = path.startswith(CONTROL_PREFIX)
        if not is_control:
            fake._count_request()
        body = self.read_body()
        if body is None:
            self.close_connection = True
            self.send_json(411, {"code": "bad_request", "message": "Length required"})
            return
        if is_control:
            self._control(method, path, body)
        elif path == SEND_PATH:
            if method != "POST":
                self.send_json(405, {"code": "method_not_allowed", "message": "Use POST"})
            else:
                self._send_email(body)
        else:
            self.send_json(404, {"code": "not_found", "message": f"Unknown path {path}"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- Brevo API ----------------------------------------------------------------

    def _send_email(self, raw: bytes) -> None:
        fake = self.fake
        delay, fail_status = fake._take_injections()
        headers: dict[str, str] = {}

        if fail_status is not None:
            # Injected failure: answered before any processing, nothing recorded.
            status = fail_status
            response = _ERROR_BODIES.get(
                fail_status, {"code": "error", "message": f"Injected HTTP {fail_status}"}
            )
            if fail_status == 429:
                headers = {
                    "Retry-After": "1",
                    "x-sib-ratelimit-limit": "10",
                    "x-sib-ratelimit-remaining": "0",
                    "x-sib-ratelimit-reset": "1",
                }
        elif self.headers.get("api-key") != fake.api_key:
            status, response = 401, {"code": "unauthorized", "message": "Key not found"}
        else:
            try:
                status, response = fake._accept(raw)
            except BadRequest as err:
                status, response = err.status, {"code": err.code, "message": err.message}

        if delay:
            time.sleep(delay)  # after recording: the mail "went out" anyway
        self.send_json(status, response, headers)

    # -- control API --------------------------------------------------------------

    def _control(self, method: str, path: str, raw: bytes) -> None:
        fake = self.fake
        action = path[len(CONTROL_PREFIX) :].strip("/")
        try:
            args = json.loads(raw) if raw.strip() else {}
            if not isinstance(args, dict):
                raise ValueError("expected a JSON object")
            if method == "GET" and action == "messages":
                self.send_json(200, fake.messages)
            elif method == "GET" and action == "stats":
                self.send_json(200, fake.stats())
            elif method == "POST" and action == "reset":
                fake.reset()
                self.send_json(200, {"ok": True})
            elif method == "POST" and action == "fail":
                fake.fail_next(int(args.get("count", 1)), status=int(args.get("status", 500)))
                self.send_json(200, {"ok": True})
            elif method == "POST" and action == "delay":
                fake.delay_next(int(args.get("count", 1)), float(args["seconds"]))
                self.send_json(200, {"ok": True})
            else:
                self.send_json(404, {"code": "not_found", "message": f"{method} {path}"})
        except (ValueError, KeyError, TypeError) as err:
            self.send_json(400, {"code": "bad_request", "message": str(err)})


class FakeBrevo(FakeService):
    """Fake Brevo transactional API server running in a daemon thread.

    Usage::

        with FakeBrevo() as fake:
            settings.ANYMAIL = {"BREVO_API_KEY": "test-key", "BREVO_API_URL": fake.url}
            ...
            assert fake.messages[0]["to"] == ["a@example.com"]

    The control API lives at ``base_url + "_fake/..."``.
    """

    handler = _Handler

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "test-key",
        *,
        latency: float = 0.0,
    ):
        super().__init__(host, port)
        self.api_key = api_key
        self.latency = latency  # added to every send, to mimic a remote API
        self._changed = threading.Condition(self._lock)
        self._init_state()

    def _init_state(self) -> None:
        self._messages: list[dict] = []
        self._requests = 0
        self._connections = 0
        self._api_calls = 0
        self._key_counts: dict[str, int] = {}
        self._duplicates: list[str] = []
        # Brevo's own request idempotency: top-level headers.idempotencyKey -> first answer.
        self._request_keys: dict[str, dict] = {}
        self._replays = 0
        self._clear_injections()

    @property
    def url(self) -> str:
        """Value for ``ANYMAIL["BREVO_API_URL"]`` (ends with ``/v3/``)."""
        return self.base_url + API_PREFIX.lstrip("/")

    # -- inspection ---------------------------------------------------------------

    @property
    def messages(self) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._messages]

    @property
    def requests_count(self) -> int:
        with self._lock:
            return self._requests

    @property
    def api_calls(self) -> int:
        with self._lock:
            return self._api_calls

    @property
    def connections_count(self) -> int:
        """TCP connections accepted (control API included); shows keep-alive reuse."""
        with self._lock:
            return self._connections

    @property
    def replays(self) -> int:
        """Requests answered from Brevo's idempotencyKey memory instead of being sent."""
        with self._lock:
            return self._replays

    @property
    def duplicates(self) -> list[str]:
        with self._lock:
            return list(self._duplicates)

    def stats(self) -> dict:
        with self._lock:
            return {
                "messages": len(self._messages),
                "api_calls": self._api_calls,
                "requests": self._requests,
                "duplicates": list(self._duplicates),
                "connections": self._connections,
                "replays": self._replays,
            }

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least `count` messages are recorded (for async senders)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"FakeBrevo: {len(self._messages)} messages after {timeout}s, "
                        f"expected {count}"
                    )
                self._changed.wait(remaining)
            return [dict(m) for m in self._messages]

    # -- control ------------------------------------------------------------------

    def reset(self) -> None:
        """Forget messages, counters, idempotency keys and pending injections."""
        with self._lock:
            self._init_state()

    def fail_next(self, n: int, status: int = 500) -> None:
        """Make the next `n` send POSTs answer `status` (429 adds Retry-After: 1)."""
        if not 400 <= status <= 599:
            raise ValueError(f"status must be a 4xx/5xx code, got {status}")
        super().fail_next(n, status)

    def delay_next(self, n: int, seconds: float) -> None:
        """Make the next `n` send POSTs sleep `seconds` before answering.

        The message is still accepted and recorded (see module docstring).
        """
        super().delay_next(n, seconds)

    # -- internals used by the handler --------------------------------------------

    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    def _count_request(self) -> None:
        with self._lock:
            self._requests += 1

    def _take_injections(self) -> tuple[float, int | None]:
        delay, fail = super()._take_injections()
        return delay + self.latency, fail

    def _accept(self, raw: bytes) -> tuple[int, dict]:
        """Validate a send request, record its messages, return (status, body)."""
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise BadRequest("bad_request", f"Invalid JSON: {err}") from None
        if not isinstance(payload, dict):
            raise BadRequest("bad_request", "Request body must be a JSON object")

        versions = payload.get("messageVersions")
        if versions is not None:
            if not isinstance(versions, list) or not versions:
                raise BadRequest("bad_request", "messageVersions must be a non-empty list")
            if not all(isinstance(v, dict) for v in versions):
                raise BadRequest("bad_request", "messageVersions items must be objects")
        elif not payload.get("to"):
            raise BadRequest("bad_request", "to is missing")

        has_template = "templateId" in payload
        sender = payload.get("sender")
        if not has_template and not (isinstance(sender, dict) and sender.get("email")):
            raise BadRequest("bad_request", "sender is missing")

        request_key = _lower_keys(payload.get("headers") or {}).get("idempotencykey")
        if request_key:
            with self._lock:
                if request_key in self._request_keys:
                    # Like Brevo: a repeated key is answered, not sent again.
                    self._replays += 1
                    return 201, self._request_keys[request_key]

        records = []
        for version in versions if versions is not None else [{}]:
            records.append(self._build_record(payload, version, has_template))

        raw_text = raw.decode("utf-8", errors="replace")
        with self._changed:
            self._api_calls += 1
            # A key shared by all versions of one batch counts once per request.
            for key in dict.fromkeys(r["idempotency_key"] for r in records if r["idempotency_key"]):
                count = self._key_counts.get(key, 0) + 1
                self._key_counts[key] = count
                if count == 2:
                    self._duplicates.append(key)
            for record in records:
                record["raw_body"] = raw_text
                self._messages.append(record)
            self._changed.notify_all()

        ids = [r["message_id"] for r in records]
        body = {"messageIds": ids} if versions is not None else {"messageId": ids[0]}
        if request_key:
            with self._lock:
                self._request_keys[request_key] = body
        return 201, body

    def _build_record(self, payload: dict, version: dict, has_template: bool) -> dict:
        def merged(field: str) -> Any:
            return version.get(field, payload.get(field))

        to = version.get("to") if "to" in version else payload.get("to")
        if not to or not isinstance(to, list):
            raise BadRequest("bad_request", "to is missing")
        cc = merged("cc") or []
        bcc = merged("bcc") or []
        for field, recipients in (("to", to), ("cc", cc), ("bcc", bcc)):
            if not isinstance(recipients, list) or not all(isinstance(r, dict) for r in recipients):
                raise BadRequest("bad_request", f"{field} must be a list of objects")
            self._check_emails(recipients)

        subject = merged("subject")
        html = merged("htmlContent")
        text = merged("textContent")
        if not has_template:
            if not subject:
                raise BadRequest("bad_request", "subject is missing")
            if not html and not text:
                raise BadRequest("bad_request", "htmlContent or textContent is missing")

        headers = dict(payload.get("headers") or {})
        headers.update(version.get("headers") or {})
        params = dict(payload.get("params") or {})
        params.update(version.get("params") or {})
        sender = payload.get("sender") or {}

        return {
            "message_id": f"<{uuid.uuid4()}@smtp-relay.mailin.fr>",
            "to": [r["email"] for r in to],
            "cc": [r["email"] for r in cc],
            "bcc": [r["email"] for r in bcc],
            "sender": sender.get("email"),
            "subject": subject,
            "html": html,
            "text": text,
            "headers": headers,
            "params": params,
            "tags": payload.get("tags") or [],
            "template_id": payload.get("templateId"),
            "idempotency_key": _lower_keys(headers).get(IDEMPOTENCY_HEADER),
            "received_at": time.time(),
        }

    @staticmethod
    def _check_emails(recipients: list[dict]) -> None:
        for recipient in recipients:
            if not _is_valid_email(recipient.get("email")):
                raise BadRequest("invalid_parameter", "email is not valid")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Brevo API in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per send")
    args = parser.parse_args(argv)

    fake = FakeBrevo(args.host, args.port, args.api_key, latency=args.latency)
    host = "127.0.0.1" if args.host in ("", "0.0.0.0") else args.host
    print(
        f"Fake Brevo on http://{host}:{args.port}/v3/ "
        f"(control: http://{host}:{args.port}/_fake/stats); Ctrl-C to stop",
        flush=True,
    )
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
