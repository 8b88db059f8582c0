"""Sessions in Redis that say when Redis is away, instead of signing everyone out.

Django's cache session store treats any error while reading as "no such session": with the
sessions Redis down, a volunteer would look signed out, and the response would even delete
their session cookie, so they stay signed out after Redis is back. Here a failed read raises
`SessionStoreUnavailable`, which `portal.errors` answers with a 503 and `Retry-After`.
Anonymous visitors never read the store (no session cookie), so their pages are unaffected.
"""

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from redis.exceptions import RedisError


class SessionStoreUnavailable(Exception):
    """The sessions Redis did not answer: the request cannot know who is asking."""


class SessionStore(CacheSessionStore):
    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)
        except RedisError as exc:
            raise SessionStoreUnavailable("sessions Redis unreachable") from exc
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
