"""Publishing the outbox's Celery messages: the one module that talks to the broker.

Tasks are named, not imported, so that `emails.tasks` (which sends, and hands work on) can
import this module and imports flow one way: tasks → sending/outbox → dispatch.
"""

import logging
import time

from django.core.cache import cache

from celery_app import app

logger = logging.getLogger(__name__)

DRAIN = "emails.tasks.drain_outbox"
SEND = "emails.tasks.send_outbox"
KICK_KEY = "emails:outbox:kick"
BROKER_RETRY_SECONDS = 5.0
_broker = {"down_until": 0.0}  # per process


def publish(task_name: str, **options) -> bool:
    """Queue a task; False when the broker is away, and the sweeper sends the rows later.

    After a failure this process does not try the broker again for BROKER_RETRY_SECONDS:
    during an outage a signup costs no failed connection, only the insert it commits."""
    now = time.monotonic()
    if now < _broker["down_until"]:
        return False
    try:
        task(task_name).apply_async(retry=False, **options)
    except Exception:  # kombu raises transport-specific errors
        _broker["down_until"] = now + BROKER_RETRY_SECONDS
        logger.warning("Broker unreachable, outbox left to the sweeper", exc_info=True)
        return False
    return True


def task(name: str):
    """The registered task, not `send_task`, so eager mode (`make demo`) still applies. A web
    process has imported no tasks module yet: Celery's autodiscovery imports them once."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def kick() -> None:
    """After a commit: make sure a drain task is queued, for the price of one Redis SET NX.

    During a spike, thousands of commits a second share the drain that is already queued
    (it deletes the key when it starts, then claims everything due), instead of publishing
    one Celery message each. A commit that lands after the drain started sets the key again
    and queues the next one, so nothing waits for the sweeper unless the broker is down.
    """
    # True: ours to queue; False: a drain is queued and has not started, it will see this
    # row; None: the cache Redis is away (django-redis IGNORE_EXCEPTIONS), so publish anyway.
    if cache.add(KICK_KEY, 1, timeout=5) is False:
        return
    if not publish(DRAIN):
        cache.delete(KICK_KEY)


def drain_started() -> None:
    """The drain deletes the key first: commits from now on queue the next drain."""
    cache.delete(KICK_KEY)


def enqueue(ids: list[int], countdown: float | None = None) -> bool:
    """Hand ids to a worker, now or after `countdown` seconds. Never raises: if the broker is
    down, the sweeper sends them later."""
    options = {"countdown": countdown} if countdown else {}
    return publish(SEND, args=[ids], **options)
