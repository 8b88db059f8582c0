from celery import shared_task

from . import digest


@shared_task(ignore_result=True)
def send_moderator_digests() -> int:
    """Daily: what waits for each moderator, in their départements (moderation.digest)."""
    return digest.send()
