"""200 volunteers apply at the same instant to a mission with 10 places, over real HTTP; and
to a mission whose 10 places are on three slots."""

import secrets
import threading
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cache import SessionStore
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Booking
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


def confirmed_volunteers(prefix: str, count: int) -> list[User]:
    """`count` volunteers with a confirmed address, in one INSERT."""
    now = timezone.now()
    return User.objects.bulk_create(
        User(
            email=f"{prefix}{i}@example.com",
            first_name=f"{prefix[0].upper()}{i}",
            email_confirmed_at=now,
            password="!",
        )
        for i in range(count)
    )


def test_two_hundred_simultaneous_applications_to_ten_places(server, demo):
    organisation = Organisation.objects.get(slug="banque-alimentaire-rhone")
    mission = make.mission(organisation, title="Dernières places", places=10)
    volunteers = confirmed_volunteers("rush", 200)
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


def rush(server, url, sessions, payloads) -> list:
    """Every session posts its payload to `url` at the same instant; [(status code, body)]."""
    barrier = threading.Barrier(len(sessions))
    results: list = []

    def post(session_key, payload):
        token = secrets.token_hex(16)
        barrier.wait(timeout=60)
        try:
            response = requests.post(
                f"{server}{url}",
                json=payload,
                headers={"Host": "localhost", "X-CSRFToken": token},
                cookies={settings.SESSION_COOKIE_NAME: session_key, "csrftoken": token},
                timeout=120,
            )
            results.append((response.status_code, response.json()))
        except Exception as exc:  # noqa: BLE001 - counted as an error below
            results.append((None, repr(exc)))

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(sessions, payloads, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def test_two_hundred_simultaneous_applications_never_overbook_a_slot(server, demo):
    """Three slots (5, 3 and 2 places), each volunteer choosing two or three of them: every
    slot fills exactly, the rest wait on it, and a freed place goes to that slot's first."""
    organisation = Organisation.objects.get(slug="banque-alimentaire-rhone")
    mission = make.mission(organisation, title="Créneaux du samedi", places=1)
    start = timezone.now() + timedelta(days=3)
    services.save_slots(
        mission,
        [
            services.SlotChange(
                None, start + timedelta(days=i), start + timedelta(days=i, hours=3), n
            )
            for i, n in enumerate((5, 3, 2))
        ],
    )
    slots = list(mission.slots.order_by("start"))
    places = {slot.pk: slot.places for slot in slots}
    volunteers = confirmed_volunteers("slot", 200)
    choices = [[0, 1], [1, 2], [0, 2], [0, 1, 2]]
    payloads = [{"slots": [slots[j].pk for j in choices[i % 4]]} for i in range(200)]
    results = rush(
        server,
        f"/api/v1/missions/{mission.pk}/applications",
        [session_for(v) for v in volunteers],
        payloads,
    )

    assert len(results) == 200
    assert {code for code, _ in results} == {201}, results[:5]
    booked = Booking.objects.filter(slot__mission=mission, status=Booking.Status.BOOKED)
    per_slot = dict(booked.values_list("slot").annotate(n=Count("pk")))
    assert per_slot == places  # every slot full, none over
    chosen = sum(len(p["slots"]) for p in payloads)
    assert Booking.objects.filter(slot__mission=mission).count() == chosen
    for _, body in results:  # pending exactly when the answer holds a place
        holds = any(b["status"] == "booked" for b in body["slots"])
        assert body["status"] == ("pending" if holds else "waitlisted")
    mission.refresh_from_db()
    assert mission.active_count == 10 and mission.places == 10

    # One holding a place on the last slot cancels: that slot's first waiting gets it, once.
    last = slots[2]
    leaving = booked.filter(slot=last).first().application
    first_waiting = (
        Booking.objects.filter(slot=last, status=Booking.Status.WAITLISTED)
        .order_by("created_at", "pk")
        .first()
    )
    services.cancel(leaving.pk, leaving.volunteer)
    first_waiting.refresh_from_db()
    assert first_waiting.status == Booking.Status.BOOKED
    assert dict(booked.values_list("slot").annotate(n=Count("pk"))) == places
    keys = OutboundEmail.objects.filter(idempotency_key__startswith="application-promoted:")
    promoted = {f"application-promoted:{first_waiting.application_id}:slot-{last.pk}"}
    assert promoted <= set(keys.values_list("idempotency_key", flat=True))
