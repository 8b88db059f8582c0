"""Helpers shared by the email delivery tests (their fixtures live in conftest.py)."""

from django.db import transaction

from emails.outbox import queue_email
from tests.fake_brevo import FakeBrevo
from tests.workers import CeleryWorker, wait_until


def email_worker(fake, broker, **env):
    return CeleryWorker(
        concurrency=2,
        BREVO_API_KEY="test-key",
        BREVO_API_URL=fake.url,
        CELERY_BROKER_URL=broker.url,
        EMAIL_API_TIMEOUT=env.pop("EMAIL_API_TIMEOUT", 10),
        **env,
    )


def queue(site, n=1, language="en", to=None, key="signup-confirmation"):
    with transaction.atomic():
        return [
            queue_email(
                to=to or f"volunteer{i}@example.com",
                template="account_confirmation",
                idempotency_key=f"{key}:{i}",
                site=site,
                language=language,
                context={"first_name": f"Camille{i}", "action_path": f"/{language}/confirm/{i}/"},
            )
            for i in range(n)
        ]


def wait_for_status(email, status, timeout=20):
    def reached():
        email.refresh_from_db()
        return email.status == status

    wait_until(reached, timeout, message=f"{email} never reached {status}: {email.last_error}")
    return email


def running_fake_brevo():
    """The fake Brevo the email tests and the browser journeys talk to, for a fixture to
    yield (the key is the one their workers are given)."""
    with FakeBrevo(api_key="test-key") as server:
        yield server
