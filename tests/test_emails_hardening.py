"""The outbox's last holes from the security review: a lost lease, sub-batch keys, the case
of suppressed addresses, escaped plain text."""

import pytest

from emails.models import OutboundEmail, SuppressedAddress
from emails.outbox import queue_email
from emails.sending import claim, deliver, finish_failed, finish_sent, render

Status = OutboundEmail.Status
pytestmark = pytest.mark.django_db


def make(site, to="ana@example.com", key="hardening:1", **context):
    return queue_email(
        to=to,
        template="account_confirmation",
        idempotency_key=key,
        site=site,
        language="fr",
        context={"first_name": "Ana", "action_path": "/fr/confirmer/x/", **context},
    )


@pytest.mark.parametrize("finish", ["sent", "failed"])
def test_a_worker_that_lost_its_lease_does_not_write_over_the_new_claim(demo, finish):
    email = make(demo["localhost"])
    (group,) = claim([email.pk])
    (mine,) = group.records
    # Past the lease, the sweeper handed it to another worker: a new claim, attempts moved on.
    OutboundEmail.objects.filter(pk=email.pk).update(attempts=mine.attempts + 1)
    if finish == "sent":
        finish_sent([(mine, "late-message-id")])
    else:
        finish_failed([mine], "late failure")
    email.refresh_from_db()
    assert email.status == Status.SENDING and email.attempts == mine.attempts + 1
    assert email.message_id == "" and email.last_error == ""


def test_the_current_claim_finishes_normally(demo):
    email = make(demo["localhost"])
    (group,) = claim([email.pk])
    finish_sent([(group.records[0], "msg-1")])
    email.refresh_from_db()
    assert email.status == Status.SENT and email.message_id == "msg-1"


def test_a_suppressed_address_is_found_whatever_its_case(demo):
    SuppressedAddress.objects.create(email="Ana@Example.COM", reason="hard_bounce")
    email = make(demo["localhost"], to="ana@example.com")
    assert claim([email.pk]) == []
    email.refresh_from_db()
    assert email.status == Status.SUPPRESSED


def test_subject_and_text_are_not_html_escaped(demo):
    email = make(demo["localhost"], first_name="L'Épicerie <solidaire> & co")
    rendered = render(email)
    assert "L'Épicerie <solidaire> & co" in rendered.text
    assert "&#x27;" not in rendered.text + rendered.subject and "&lt;" not in rendered.text
    assert "<solidaire>" not in rendered.html  # the HTML part stays escaped


def test_a_bisected_sub_batch_keeps_the_idempotency_key_brevo_saw(demo, fake, settings):
    """Brevo refuses a batch for one bad address; the halves go out under new keys, and each
    record stores its own, so a retry after a timeout presents a key Brevo knows."""
    fake.reset()
    settings.EMAIL_BACKEND = "emails.backends.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "BREVO_API_KEY": "test-key", "BREVO_API_URL": fake.url}
    site = demo["localhost"]
    emails = [make(site, to=f"v{i}@example.com", key=f"bisect:{i}") for i in range(3)]
    emails.append(make(site, to="broken@example.invalid", key="bisect:bad"))
    (group,) = claim([e.pk for e in emails])
    deliver(group)
    seen = fake._request_keys  # the top-level keys of the calls Brevo accepted
    for email in emails[:3]:
        email.refresh_from_db()
        assert email.status == Status.SENT
        assert str(email.request_key) in seen, "the stored key is not one Brevo accepted"
        assert email.request_key != group.request_key
