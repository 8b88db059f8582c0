"""What the fake HTTP services of the tests share (fake_brevo, fake_ban, fake_cloudflare).

A `FakeService` runs a threaded HTTP server on a loopback port (a free one by default) in a
daemon thread, or in the foreground (`serve_forever`, for a command line). Its handler, a
`JsonHandler`, reads request bodies and answers JSON over HTTP/1.1 keep-alive, like the real
APIs behind their proxies; `stop()` also drops the kept-alive connections, so a client does
not go on talking to a stopped fake. `fail_next` and `delay_next` queue failures and slow
answers for the next requests the service chooses to apply them to.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # clients reuse connections (we always send Content-Length)
    timeout = 60  # idle keep-alive connections give up instead of pinning a thread
    server: FakeServer

    @property
    def fake(self) -> Any:
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test and benchmark output clean

    def read_body(self) -> bytes | None:
        """The request body; None for a chunked one (unsupported: answer 411)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return None
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_json(self, status: int, body: Any, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. timed out meanwhile)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the benchmark opens many concurrent connections

    fake: FakeService

    def __init__(self, *args: Any, **kwargs: Any):
        self._open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._sockets_lock:
            (self._open_sockets.add if open_ else self._open_sockets.discard)(sock)

    def close_client_sockets(self) -> None:
        with self._sockets_lock:
            sockets = list(self._open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Disconnects are expected (client timeouts during delays); anything else is a fake bug.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        name = type(self.fake).__name__
        logger.exception("%s: error handling request from %s", name, client_address)


class FakeService:
    """A fake API on `host:port` (port 0: a free one, known once started)."""

    handler: type[JsonHandler]

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self._port = port
        self._server: FakeServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._fail_queue: list[int] = []
        self._delay_queue: list[float] = []

    def _bind(self) -> FakeServer:
        server = FakeServer((self.host, self._port), self.handler)
        server.fake = self
        self._server = server
        self._port = server.server_address[1]
        return server

    def start(self):
        if self._server is None:
            server = self._bind()
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}:{self._port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_client_sockets()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Run in the foreground (command line); Ctrl-C stops."""
        server = self._bind()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port == 0:
            raise RuntimeError(f"{type(self).__name__} port is only known once started")
        return self._port

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}/"

    # -- injected failures and delays ----------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer `status` to the next `n` requests the service applies injections to."""
        with self._lock:
            self._fail_queue.extend([status] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        """Sleep `seconds` before answering the next `n` such requests."""
        with self._lock:
            self._delay_queue.extend([float(seconds)] * n)

    def _clear_injections(self) -> None:
        """Call with the lock held."""
        self._fail_queue.clear()
        self._delay_queue.clear()

    def _take_injections(self) -> tuple[float, int | None]:
        """(seconds to sleep, status to fail with or None) for one request."""
        with self._lock:
            delay = self._delay_queue.pop(0) if self._delay_queue else 0.0
            fail = self._fail_queue.pop(0) if self._fail_queue else None
        return delay, fail
