"""200 volunteers apply at the same instant to a mission with 10 places, over real HTTP."""

import secrets
import threading

import pytest
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cache import SessionStore
from django.utils import timezone

from accounts.models import User
from emails.models import OutboundEmail
from missions import services
from missions.models import Application
from organisations.models import Organisation
from tests import factories as make
from tests.workers import WebServer

pytestmark = pytest.mark.django_db(transaction=True)


def session_for(user) -> str:
    """A real signed-in session in Redis, as the sign-in view would create it."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


@pytest.fixture
def server(demo):
    with WebServer(workers=4) as web:
        yield web.url


def test_two_hundred_simultaneous_applications_to_ten_places(server, demo):
    organisation = Organisation.objects.get(slug="banque-alimentaire-rhone")
    mission = make.mission(organisation, title="Dernières places", places=10)
    now = timezone.now()
    volunteers = User.objects.bulk_create(
        [
            User(
                email=f"rush{i}@example.com",
                first_name=f"R{i}",
                email_confirmed_at=now,
                password="!",
            )
            for i in range(200)
        ]
    )
    sessions = [session_for(v) for v in volunteers]
    barrier = threading.Barrier(200)
    results: list = []

    def apply(session_key):
        token = secrets.token_hex(16)  # a CSRF secret: cookie and header must match
        barrier.wait(timeout=60)
        try:
            response = requests.post(
                f"{server}/api/v1/missions/{mission.pk}/applications",
                json={"message": "Disponible"},
                headers={"Host": "localhost", "X-CSRFToken": token},
                cookies={settings.SESSION_COOKIE_NAME: session_key, "csrftoken": token},
                timeout=120,
            )
            results.append((response.status_code, response.json().get("status")))
        except Exception as exc:  # noqa: BLE001 - counted as an error below
            results.append((None, repr(exc)))

    threads = [threading.Thread(target=apply, args=(key,)) for key in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    assert len(results) == 200
    assert {code for code, _ in results} == {201}, results[:5]
    assert sum(1 for _, status in results if status == "pending") == 10
    assert sum(1 for _, status in results if status == "waitlisted") == 190
    assert mission.applications.filter(status="pending").count() == 10
    assert mission.applications.filter(status="waitlisted").count() == 190

    # One cancels: the first on the waiting list is promoted, and emailed exactly once.
    leaving = mission.applications.filter(status="pending").first()
    first_waiting = mission.applications.filter(status="waitlisted").order_by("created_at", "pk")[0]
    services.cancel(leaving.pk, leaving.volunteer, reason="Empêchement")
    first_waiting.refresh_from_db()
    assert first_waiting.status == Application.Status.PENDING
    assert mission.applications.filter(status__in=["pending", "accepted"]).count() == 10
    keys = OutboundEmail.objects.filter(idempotency_key__startswith="application-promoted:")
    assert list(keys.values_list("to_email", flat=True)) == [first_waiting.volunteer.email]
