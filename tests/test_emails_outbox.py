"""The outbox in-process: queueing, rendering, suppression, tracking webhook, admin."""

import base64
import json

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from celery_app import app
from emails.models import OutboundEmail, SuppressedAddress
from emails.outbox import queue_email
from emails.sending import render, retry_delay
from emails.tasks import send_outbox, sweep_outbox
from tests import factories

Status = OutboundEmail.Status
pytestmark = pytest.mark.django_db
WEBHOOK = "/anymail/brevo/tracking/"


def make(site, to="ana@example.com", key="event:1", language="fr", **context):
    return queue_email(
        to=to,
        template="account_confirmation",
        idempotency_key=key,
        site=site,
        language=language,
        context={"first_name": "Ana", "action_path": "/fr/confirmer/x/", **context},
    )


def test_queue_is_part_of_the_callers_transaction(demo):
    with pytest.raises(RuntimeError), transaction.atomic():
        make(demo["localhost"])
        raise RuntimeError("the signup failed")
    assert not OutboundEmail.objects.exists()


def test_same_event_twice_is_one_record_and_keeps_the_callers_transaction(demo):
    with transaction.atomic():
        first = make(demo["localhost"])
        second = make(demo["localhost"], to="other@example.com")
        assert OutboundEmail.objects.count() == 1  # the transaction is still usable
    assert first.pk == second.pk


def test_nothing_is_sent_inside_the_request(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        make(demo["localhost"])
    assert len(callbacks) == 1  # sending waits for the commit
    assert mail.outbox == []


def test_links_follow_the_current_public_domain(demo):
    email = make(demo["covid19.localhost"], language="en")
    site = demo["covid19.localhost"]
    site.hostname = "jeveuxaider.localhost"
    site.save()
    email.refresh_from_db()
    rendered = render(email)
    assert "http://jeveuxaider.localhost/fr/confirmer/x/" in rendered.html
    assert "covid19.localhost" not in rendered.html + rendered.text
    assert rendered.subject.startswith("Confirm your email address")


def test_user_values_are_escaped_in_html(demo):
    email = make(demo["localhost"], first_name="<script>alert(1)</script>")
    assert "<script>" not in render(email).html


def test_send_in_process_with_console_like_backend(demo):
    email = make(demo["localhost"])
    assert send_outbox([email.pk]) == 1
    email.refresh_from_db()
    assert email.status == Status.SENT and email.attempts == 1
    (message,) = mail.outbox
    assert message.to == ["ana@example.com"]
    assert message.extra_headers["X-Idempotency-Key"] == "event:1"
    assert "Je veux aider" in message.from_email
    # Claimed once: running the task again sends nothing.
    assert send_outbox([email.pk]) == 0
    assert len(mail.outbox) == 1


def test_undeliverable_address_is_not_sent(demo):
    SuppressedAddress.objects.create(email="ana@example.com", reason="hard_bounce")
    email = make(demo["localhost"], to="Ana@Example.com")
    send_outbox([email.pk])
    email.refresh_from_db()
    assert email.status == Status.SUPPRESSED
    assert mail.outbox == []


def test_sweeper_picks_pending_and_expired_claims_only(demo, settings):
    pending = make(demo["localhost"], key="a")
    stale = make(demo["localhost"], key="b", to="b@example.com")
    live = make(demo["localhost"], key="c", to="c@example.com")
    sent = make(demo["localhost"], key="d", to="d@example.com")
    now = timezone.now()
    OutboundEmail.objects.filter(pk=stale.pk).update(
        status=Status.SENDING, claimed_until=now - timezone.timedelta(seconds=1)
    )
    OutboundEmail.objects.filter(pk=live.pk).update(
        status=Status.SENDING, claimed_until=now + timezone.timedelta(seconds=60)
    )
    OutboundEmail.objects.filter(pk=sent.pk).update(status=Status.SENT)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    try:
        assert sweep_outbox() == 2
    finally:
        app.conf.task_always_eager = False
    assert {m.to[0] for m in mail.outbox} == {"ana@example.com", "b@example.com"}
    assert OutboundEmail.objects.get(pk=pending.pk).status == Status.SENT


@pytest.mark.parametrize("attempts", [1, 2, 5, 10, 30])
def test_backoff_grows_with_jitter_and_a_cap(attempts, settings):
    settings.EMAIL_RETRY_BASE_DELAY, settings.EMAIL_RETRY_MAX_DELAY = 5, 900
    expected = min(5 * 2 ** (attempts - 1), 900)
    delays = {retry_delay(attempts) for _ in range(20)}
    assert all(expected * 0.5 <= d <= expected for d in delays)
    assert len(delays) > 1  # jitter
    assert retry_delay(1, retry_after=60) >= 60


# --- Tracking webhook -------------------------------------------------------------------


def auth(secret="brevo:test-secret"):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def post_event(client, event, message_id, email="ana@example.com", ts=1700000000, **headers):
    payload = {
        "event": event,
        "email": email,
        "id": 1,
        "date": "2026-11-26 12:00:00",
        "ts": ts,
        "message-id": message_id,
        "ts_event": ts,
        "subject": "Confirmez",
        "ts_epoch": ts * 1000,
    }
    return client.post(
        WEBHOOK, json.dumps(payload), content_type="application/json", **(headers or auth())
    )


@pytest.fixture
def sent_email(demo):
    email = make(demo["localhost"])
    OutboundEmail.objects.filter(pk=email.pk).update(status=Status.SENT, message_id="<m1@brevo>")
    return email


@pytest.mark.parametrize(
    "events, final",
    [
        (["delivered"], "delivered"),
        (["opened", "delivered"], "opened"),
        (["click", "opened", "delivered", "request"], "clicked"),
        (["soft_bounce", "delivered"], "delivered"),
        (["delivered", "soft_bounce"], "delivered"),
        (["delivered", "hard_bounce", "opened"], "bounced"),
        (["opened", "spam", "click"], "complained"),
    ],
)
def test_out_of_order_events_end_in_the_right_status(client, sent_email, events, final):
    for event in events:
        assert post_event(client, event, "<m1@brevo>").status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.delivery_status == final


@pytest.mark.parametrize("event", ["hard_bounce", "spam", "invalid_email"])
def test_hard_bounce_or_complaint_marks_the_address_undeliverable(client, sent_email, event):
    post_event(client, event, "<m1@brevo>", email="ANA@example.com")
    post_event(client, event, "<m1@brevo>", email="ana@example.com")  # repeated: no error
    assert SuppressedAddress.objects.filter(email__iexact="ana@example.com").count() == 1


def test_soft_bounce_does_not_suppress(client, sent_email):
    post_event(client, "soft_bounce", "<m1@brevo>")
    assert not SuppressedAddress.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [{}, auth("brevo:wrong"), {"HTTP_AUTHORIZATION": "Bearer brevo:test-secret"}],
)
def test_bad_webhook_secret_is_refused(client, sent_email, headers):
    response = post_event(client, "hard_bounce", "<m1@brevo>", HTTP_X_NOTHING="1", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not SuppressedAddress.objects.exists()


def test_webhook_without_configured_secret_is_closed_in_production(client, settings, sent_email):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    assert post_event(client, "hard_bounce", "<m1@brevo>").status_code == 403


# --- Admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(factories.superuser())
    return client


def test_staff_see_the_outbox_with_filters_and_errors(admin_client, demo):
    failed = make(demo["localhost"], key="f", to="failed@example.com")
    OutboundEmail.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, attempts=25, last_error="HTTP 500: Brevo is down"
    )
    make(demo["covid19.localhost"], key="p", to="pending@example.com")
    listing = admin_client.get("/admin/outbox/?status=failed", HTTP_HOST="localhost")
    assert listing.status_code == 200
    assert "failed@example.com" in listing.text and "pending@example.com" not in listing.text
    by_site = admin_client.get(
        f"/admin/outbox/?site={demo['covid19.localhost'].pk}", HTTP_HOST="localhost"
    )
    assert "pending@example.com" in by_site.text and "failed@example.com" not in by_site.text
    inspect = admin_client.get(f"/admin/outbox/inspect/{failed.pk}/", HTTP_HOST="localhost")
    assert "Brevo is down" in inspect.text and "25" in inspect.text
    new = admin_client.get("/admin/outbox/new/", HTTP_HOST="localhost", follow=True)
    assert new.status_code == 404  # read-only: no add view


def test_retry_now_makes_a_failed_email_due_and_sends_it(admin_client, demo):
    failed = make(demo["localhost"], key="f", to="failed@example.com")
    OutboundEmail.objects.filter(pk=failed.pk).update(status=Status.FAILED, attempts=25)
    url = f"/admin/outbox/retry/{failed.pk}/"
    assert admin_client.get(url, HTTP_HOST="localhost").status_code == 200  # confirmation
    response = admin_client.post(url, HTTP_HOST="localhost")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Status.PENDING


def test_undeliverable_addresses_are_listed(admin_client, demo):
    SuppressedAddress.objects.create(email="gone@example.com", reason="hard_bounce")
    response = admin_client.get("/admin/undeliverable/", HTTP_HOST="localhost")
    assert "gone@example.com" in response.text


def test_editors_cannot_see_the_outbox(client, demo):
    client.force_login(factories.editor(demo["localhost"]))
    response = client.get("/admin/outbox/", HTTP_HOST="localhost")
    assert response.status_code in (302, 403)
    assert "ana@example.com" not in response.text


def test_queue_emails_counts_only_new_rows_and_fills_the_dates(db):
    """One INSERT ... SELECT FROM jsonb_to_recordset (portal.bulk) on PostgreSQL: replayed keys
    and a key twice in the same batch are skipped, defaults and dates are set, JSON kept."""
    from emails.models import OutboundEmail  # noqa: PLC0415
    from emails.outbox import queue_emails  # noqa: PLC0415

    def email(key, **context):
        return {
            "to_email": f"{key}@example.org",
            "template": "account_confirmation",
            "idempotency_key": key,
            "site_id": None,
            "language": "fr",
            "context": context,
        }

    assert queue_emails([email("bulk-a", n=1), email("bulk-b"), email("bulk-a", n=2)]) == 2
    assert queue_emails([email("bulk-b"), email("bulk-c", link="https://x/é")]) == 1
    rows = {
        e.idempotency_key: e
        for e in OutboundEmail.objects.filter(idempotency_key__startswith="bulk-")
    }
    assert sorted(rows) == ["bulk-a", "bulk-b", "bulk-c"]
    assert rows["bulk-a"].context == {"n": 1} and rows["bulk-c"].context == {"link": "https://x/é"}
    assert all(row.created_at is not None for row in rows.values())
    assert {(row.status, row.attempts, row.site_id) for row in rows.values()} == {
        (OutboundEmail.Status.PENDING, 0, None)
    }
    assert all(
        abs(row.next_attempt_at - row.created_at).total_seconds() < 5 for row in rows.values()
    )


def test_bulk_insert_takes_rows_and_defaults(db):
    """portal.bulk.insert: rows of dicts (dates, nulls, text PostgreSQL must quote, JSON), the
    model's defaults elsewhere; wrong input is refused before anything is sent."""
    import datetime  # noqa: PLC0415

    from accounts.models import User  # noqa: PLC0415
    from portal import bulk  # noqa: PLC0415

    joined = datetime.datetime(2026, 3, 16, 20, 1, 2, 345678, tzinfo=datetime.UTC)
    created = bulk.insert(
        User,
        [
            {
                "email": "bulk-1@example.org",
                "first_name": 'Zoé "Zaza"',
                "birth_date": datetime.date(1990, 5, 1),
                "date_joined": joined,
                "availability": ["weekend"],
                "language": "en",
                "password": "!unusable",
            },
            {
                "email": "bulk-2@example.org",
                "first_name": "O'Brien\\n{,}",
                "birth_date": None,
                "date_joined": joined,
                "availability": {"mornings": True},
                "language": "en",
                "password": "!unusable",
            },
        ],
        conflict="ON CONFLICT (email) DO NOTHING",
        returning="email",
    )
    assert sorted(created) == [("bulk-1@example.org",), ("bulk-2@example.org",)]
    one, two = User.objects.filter(email__startswith="bulk-").order_by("email")
    assert (one.first_name, two.first_name) == ('Zoé "Zaza"', "O'Brien\\n{,}")
    assert (one.birth_date, two.birth_date) == (datetime.date(1990, 5, 1), None)
    assert one.date_joined == joined
    assert (one.availability, two.availability) == (["weekend"], {"mornings": True})
    assert (one.language, two.password) == ("en", "!unusable")
    assert one.is_active and not one.is_staff and one.interests == [] and one.pending_email == ""
    again = [{"email": "bulk-1@example.org", "date_joined": joined}]
    assert bulk.insert(User, again, conflict="ON CONFLICT (email) DO NOTHING") == []
    with pytest.raises(ValueError, match="no such field"):
        bulk.insert(User, [{"email": "x@example.org", "nickname": "x"}])
    with pytest.raises(ValueError, match="same fields"):
        bulk.insert(User, [{"email": "x@example.org"}, {"email": "y@example.org", "phone": "1"}])
    assert bulk.insert(User, []) == []
