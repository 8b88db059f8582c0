"""The rehearsal's outside services, each a process of its own (its CPU is measured apart):

python -m bench.rehearsal.fakes brevo --port P       tests/fake_brevo.py, plus an outage
    switch (POST /_fake/down {"seconds": 60}: every send answers 503 until then, nothing
    recorded) and GET /_fake/keys (each message's idempotency key, without the bodies, which
    a run of a hundred thousand emails could not keep in memory).
python -m bench.rehearsal.fakes cloudflare --port P  tests/fake_cloudflare.py, plus
    GET /_fake/stats (purge calls and URLs).
"""

import argparse
import json
import time

from tests.fake_brevo import FakeBrevo
from tests.fake_brevo import _Handler as BrevoHandler
from tests.fake_cloudflare import FakeCloudflare
from tests.fake_cloudflare import _Handler as CloudflareHandler


class _OutageHandler(BrevoHandler):
    def _send_email(self, raw: bytes) -> None:
        if time.time() < self.fake.down_until:
            self.fake._count_request()
            self.send_json(503, {"code": "service_unavailable", "message": "Rehearsal outage"})
            return
        super()._send_email(raw)

    def _control(self, method: str, path: str, raw: bytes) -> None:
        action = path.removeprefix("/_fake/").strip("/")
        if method == "POST" and action == "down":
            self.fake.down_until = time.time() + float(json.loads(raw or b"{}")["seconds"])
            self.send_json(200, {"ok": True})
        elif method == "POST" and action == "up":
            self.fake.down_until = 0.0
            self.send_json(200, {"ok": True})
        elif method == "GET" and action == "keys":
            with self.fake._lock:
                keys = [(m["to"][0], m["idempotency_key"]) for m in self.fake._messages]
            self.send_json(200, keys)
        else:
            super()._control(method, path, raw)


class RehearsalBrevo(FakeBrevo):
    """Brevo for a long run: messages kept without their bodies, and an outage switch."""

    handler = _OutageHandler

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.down_until = 0.0

    def _build_record(self, payload: dict, version: dict, has_template: bool) -> dict:
        record = super()._build_record(payload, version, has_template)
        record["html"] = record["text"] = None
        return record

    def _accept(self, raw: bytes):
        answer = super()._accept(raw)
        with self._lock:
            for message in reversed(self._messages):
                if message.pop("raw_body", None) is None:
                    break
        return answer


class _CloudflareHandler(CloudflareHandler):
    def do_GET(self):
        purged = self.fake.purged
        self.send_json(200, {"calls": len(self.fake.calls), "urls": len(purged)})


class RehearsalCloudflare(FakeCloudflare):
    handler = _CloudflareHandler

    def __init__(self, port: int):
        super().__init__()
        self._port = port


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=["brevo", "cloudflare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.02, help="brevo: seconds per send")
    args = parser.parse_args(argv)
    if args.service == "brevo":
        fake = RehearsalBrevo("127.0.0.1", args.port, "rehearsal-key", latency=args.latency)
    else:
        fake = RehearsalCloudflare(args.port)
    print(f"fake {args.service} on 127.0.0.1:{args.port}", flush=True)
    fake.serve_forever()


if __name__ == "__main__":
    main()
