from celery import shared_task

from .services import purge_unconfirmed


@shared_task(ignore_result=True)
def purge_unconfirmed_accounts() -> int:
    return purge_unconfirmed()
