from celery import shared_task


@shared_task
def ping(payload: str = "pong") -> str:
    """Echo: proves a task makes the round trip through the broker and a worker."""
    return payload
