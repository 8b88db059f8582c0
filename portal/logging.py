"""Logging helpers: an outage is one line per interval, not one line per request.

During a Redis outage every request hits the same failure; at a thousand requests a second a
line each would bury every other message (and cost CPU). `OncePerInterval` lets the first
record of each kind through, drops the repeats for `seconds`, then lets one through again
saying how many were dropped. With `status_code`, only records about responses with that
status are held back (django.request's 503s during an outage, never its 500s).
"""

import logging
import threading
import time


class OncePerInterval(logging.Filter):
    def __init__(self, seconds: float = 60.0, status_code: int | None = None):
        super().__init__()
        self.seconds = seconds
        self.status_code = status_code
        self.lock = threading.Lock()
        self.seen: dict[tuple, list] = {}  # (logger, template) -> [next allowed, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            self.status_code is not None
            and getattr(record, "status_code", None) != self.status_code
        ):
            return True
        key = (record.name, record.msg if isinstance(record.msg, str) else type(record.msg))
        now = time.monotonic()
        with self.lock:
            state = self.seen.get(key)
            if state is not None and now < state[0]:
                state[1] += 1
                return False
            dropped = state[1] if state else 0
            self.seen[key] = [now + self.seconds, 0]
        if dropped:
            record.msg = f"{record.msg} ({dropped} similar messages dropped)"
        return True
