"""Failures around sending: timeouts, a killed worker, a broker down at commit time."""

import pytest
from wagtail.models import Site

from emails.models import OutboundEmail
from emails.tasks import sweep_outbox
from tests.email_support import email_worker, queue, wait_for_status
from tests.workers import CeleryBeat, use_broker, wait_until

Status = OutboundEmail.Status
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reset_fake")]


def test_timeout_is_retried_with_the_same_brevo_idempotency_key(demo, fake, broker):
    fake.delay_next(1, 2.5)  # longer than the worker's read timeout: outcome unknown
    with email_worker(fake, broker, EMAIL_API_TIMEOUT=1):
        (email,) = queue(Site.objects.get(hostname="localhost"))
        wait_for_status(email, Status.SENT, timeout=30)
    assert email.attempts == 2
    assert len(fake.messages) == 1  # Brevo saw the key again and answered without sending
    assert fake.replays == 1
    assert email.message_id == fake.messages[0]["message_id"]


def test_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(demo, fake, broker):
    fake.delay_next(1, 30)
    site = Site.objects.get(hostname="localhost")
    crashed = email_worker(fake, broker).start()
    try:
        (email,) = queue(site)
        wait_until(lambda: fake.requests_count >= 1, message="the send never reached Brevo")
        crashed.kill()  # SIGKILL while Brevo is answering
    finally:
        crashed.stop()
    email.refresh_from_db()
    assert email.status == Status.SENDING
    with email_worker(fake, broker):
        wait_until(lambda: sweep_outbox.delay() and _sent(email), timeout=30, interval=1)
    assert len(fake.messages) == 1
    assert fake.duplicates == []
    assert email.message_id == fake.messages[0]["message_id"]


def _sent(email):
    email.refresh_from_db()
    return email.status == Status.SENT


def test_broker_down_at_commit_then_the_sweeper_sends_once(demo, fake, broker):
    site = Site.objects.get(hostname="localhost")
    broker.stop()
    try:
        (email,) = queue(site)  # the event commits; enqueueing fails quietly
    finally:
        broker.start()
    email.refresh_from_db()
    assert email.status == Status.PENDING
    use_broker(broker.url)
    with (
        email_worker(fake, broker),
        CeleryBeat(CELERY_BROKER_URL=broker.url, EMAIL_SWEEP_INTERVAL=0.5),
    ):
        wait_for_status(email, Status.SENT, timeout=40)
    assert len(fake.messages) == 1 and fake.duplicates == []
