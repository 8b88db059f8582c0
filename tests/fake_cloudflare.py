"""A local stand-in for Cloudflare's purge API: records what the portal asks to purge."""

import json

from tests.fake_http import FakeService, JsonHandler


class _Handler(JsonHandler):
    def do_POST(self):
        self.fake.calls.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "body": json.loads(self.read_body()),
            }
        )
        self.send_json(200, {"success": True, "errors": [], "result": {}})


class FakeCloudflare(FakeService):
    handler = _Handler

    def __init__(self):
        super().__init__()
        self.calls: list[dict] = []

    @property
    def url(self) -> str:
        return self.base_url + "client/v4/"

    @property
    def purged(self) -> list[str]:
        return [url for call in self.calls for url in call["body"].get("files", [])]
