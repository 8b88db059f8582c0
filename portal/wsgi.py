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
    from django.core.cache import cache  # noqa: PLC0415

    from search import index  # noqa: PLC0415
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
        data_paths=settings.PAGE_CACHE_DATA_PATHS,
        # The search index version as Django's cache stores it (an integer, in the same Redis).
        data_version_key=cache.make_key(index.VERSION_KEY),
    )


application = wrap(application)
