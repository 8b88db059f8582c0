"""A Redis connection pool that stops knocking for a moment once Redis has not answered.

A stopped Redis refuses connections at once, but a host that is gone (or a network that
drops packets) makes every attempt wait for the connect timeout: with a dozen cache reads per
page, a page would take seconds and the web workers would all be waiting. After a failed
connection this pool fails fast for `cooldown` seconds (a miss for the cache, whose errors
are ignored; a 503 for sessions), then lets the next request try again. Used by the
django-redis caches (CONNECTION_POOL_CLASS) and the page cache in front of Django.
"""

import time

import redis


class CircuitBreakerConnectionPool(redis.ConnectionPool):
    cooldown = 0.5  # seconds; short, so caching resumes well within a second of Redis' return

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_until = 0.0

    def get_connection(self, *args, **kwargs):
        if time.monotonic() < self.open_until:
            raise redis.ConnectionError("Redis did not answer a moment ago (circuit open)")
        try:
            return super().get_connection(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError):
            self.open_until = time.monotonic() + self.cooldown
            raise
