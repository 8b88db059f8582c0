"""The outbox end to end: real worker, real Redis broker, Anymail to the fake Brevo over HTTP."""

import pytest
from django.db import transaction
from wagtail.models import Site

from emails.models import OutboundEmail
from tests.email_support import queue, wait_for_status
from tests.workers import wait_until

Status = OutboundEmail.Status
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reset_fake")]


def test_one_event_sends_exactly_one_email(demo, worker, fake):
    site = Site.objects.get(hostname="covid19.localhost")
    (email,) = queue(site)
    # The same event queued again (a retried request) is the same email.
    queue(site)
    wait_for_status(email, Status.SENT)
    assert OutboundEmail.objects.count() == 1
    (message,) = fake.wait_for_messages(1)
    assert message["to"] == ["volunteer0@example.com"]
    assert message["subject"] == "Confirm your email address on Réserve civique · Covid-19"
    assert "http://covid19.localhost/en/confirm/0/" in message["html"]
    assert "http://covid19.localhost/en/confirm/0/" in message["text"]
    assert message["sender"] == "ne-pas-repondre@localhost"
    assert email.message_id == message["message_id"]
    assert email.attempts == 1 and email.sent_at is not None
    assert fake.api_calls == 1 and fake.duplicates == []


def test_french_is_the_default_language(demo, worker, fake):
    (email,) = queue(Site.objects.get(hostname="localhost"), language="fr")
    wait_for_status(email, Status.SENT)
    (message,) = fake.messages
    assert message["subject"] == "Confirmez votre adresse e-mail sur Je veux aider"
    assert "http://localhost/fr/confirm/0/" in message["html"]


def test_brevo_failing_20_times_then_recovering_delivers_once(demo, worker, fake):
    fake.fail_next(20, 500)
    (email,) = queue(Site.objects.get(hostname="localhost"))
    wait_for_status(email, Status.SENT, timeout=60)
    assert email.attempts == 21
    assert len(fake.messages) == 1
    assert fake.requests_count == 21


def test_rate_limited_then_sent(demo, worker, fake):
    fake.fail_next(2, 429)
    (email,) = queue(Site.objects.get(hostname="localhost"))
    wait_for_status(email, Status.SENT, timeout=30)
    assert email.attempts == 3 and len(fake.messages) == 1


def test_invalid_recipient_fails_at_once(demo, worker, fake):
    (email,) = queue(Site.objects.get(hostname="localhost"), to="nobody@example.invalid")
    wait_for_status(email, Status.FAILED)
    assert email.attempts == 1
    assert "400" in email.last_error
    assert fake.messages == []


def test_a_spike_is_sent_in_batches_with_one_bad_address_isolated(demo, worker, fake):
    site = Site.objects.get(hostname="localhost")
    with transaction.atomic():
        emails = queue(site, n=119, key="spike") + queue(
            site, to="broken@example.invalid", key="spike-bad"
        )
    bad = emails[-1]
    wait_for_status(bad, Status.FAILED, timeout=60)
    wait_until(
        lambda: OutboundEmail.objects.filter(status=Status.SENT).count() == 119,
        timeout=60,
        message="the 119 good emails were not all sent",
    )
    messages = fake.messages
    assert len(messages) == 119
    assert fake.duplicates == []
    assert len({m["message_id"] for m in messages}) == 119
    # Each version carries its own rendered contents.
    assert all(m["to"][0].replace("volunteer", "").split("@")[0] in m["text"] for m in messages)
    # Batches of up to 50, and a bisection around the bad address: not 120 calls.
    assert fake.api_calls <= 3 + 2 * 6, fake.api_calls
    ids = set(OutboundEmail.objects.values_list("message_id", flat=True).exclude(message_id=""))
    assert ids == {m["message_id"] for m in messages}
