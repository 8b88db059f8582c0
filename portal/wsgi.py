import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from portal.pagecache import PageCache

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

application = get_wsgi_application()


def wrap(app):
    """Put the anonymous page cache in front of Django when a Redis is configured."""
    if not settings.PAGE_CACHE_ENABLED:
        return app
    from tenants import hosts  # noqa: PLC0415 - imports models: after get_wsgi_application()

    def serves_host(host: str) -> bool:
        entry = hosts.lookup(host)
        return entry is not None and not entry.is_alias

    return PageCache(
        app,
        redis_url=settings.REDIS_URL,
        session_cookie=settings.SESSION_COOKIE_NAME,
        ttl=settings.PAGE_CACHE_TTL,
        memory_ttl=settings.PAGE_CACHE_MEMORY_TTL,
        version_ttl=settings.PAGE_CACHE_VERSION_TTL,
        serves_host=serves_host,
        query_params=settings.PAGE_CACHE_QUERY_PARAMS,
    )


application = wrap(application)
