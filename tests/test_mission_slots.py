"""Time slots (issue 16): a mission with dated slots counts places and its waiting list per
slot, the volunteer chooses slots (page, form, API), reminders go per slot, and associations
edit slots and read applicants per slot, never another organisation's."""

import csv
import datetime
import io
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from emails import sending
from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Booking, Mission, Slot
from tests import factories as make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("french")]

A, B = Application.Status, Booking.Status


def at(days: int, hour: int = 9) -> datetime.datetime:
    """`days` from today at `hour` o'clock, Paris time."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def slotted(org, places=(1, 2), **fields) -> tuple[Mission, list[Slot]]:
    """A validated mission whose slots (one per day from in 3 days) have these places."""
    mission = make.mission(org, **fields)
    changes = [services.SlotChange(None, at(3 + i), at(3 + i, 12), n) for i, n in enumerate(places)]
    services.save_slots(mission, changes)
    return mission, list(mission.slots.order_by("start"))


def statuses(application) -> dict[int, str]:
    return dict(application.bookings.values_list("slot_id", "status"))


def emails(prefix: str) -> list[str]:
    keys = OutboundEmail.objects.filter(idempotency_key__startswith=prefix)
    return sorted(keys.values_list("idempotency_key", flat=True))


# --- The rule: a place on each slot with one left, the slot's waiting list on a full one -----


def test_places_and_waiting_lists_are_per_slot(org):
    mission, (first, second) = slotted(org, places=(1, 2))
    mission.refresh_from_db()
    assert mission.places == 3  # the slots' sum, which listings and search read
    assert (mission.start_date, mission.end_date) == (first.start.date(), second.end.date())
    one = services.apply(mission.pk, make.volunteer(), "", [first.pk, second.pk])
    assert one.status == A.PENDING
    assert statuses(one) == {first.pk: B.BOOKED, second.pk: B.BOOKED}
    two = services.apply(mission.pk, make.volunteer(), "", [first.pk, second.pk])
    assert two.status == A.PENDING  # a place on the second, waits on the first
    assert statuses(two) == {first.pk: B.WAITLISTED, second.pk: B.BOOKED}
    three = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    assert three.status == A.WAITLISTED
    assert statuses(three) == {first.pk: B.WAITLISTED}
    mission.refresh_from_db()
    assert mission.active_count == 3 and mission.places_left == 0
    left = {s.pk: s.places_left for s in mission.slots.with_counts()}
    assert left == {first.pk: 0, second.pk: 0}
    assert f"application-received:{three.pk}" in emails("application-received")
    received = OutboundEmail.objects.get(idempotency_key=f"application-received:{two.pk}")
    assert received.context["slots"][0].endswith("(liste d'attente)")
    assert received.context["slots"][1].endswith(", 09:00–12:00")  # a place: nothing added


def test_a_freed_place_goes_to_the_slots_waiting_list_first_come_first_served(org):
    mission, (first, second) = slotted(org, places=(1, 2))
    one = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    two = services.apply(mission.pk, make.volunteer(), "", [first.pk, second.pk])
    three = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    services.cancel(one.pk, one.volunteer)
    assert statuses(one) == {first.pk: B.RELEASED}
    two.refresh_from_db()
    three.refresh_from_db()
    assert statuses(two) == {first.pk: B.BOOKED, second.pk: B.BOOKED}
    assert two.status == A.PENDING and three.status == A.WAITLISTED
    assert emails("application-promoted") == [f"application-promoted:{two.pk}:slot-{first.pk}"]
    manager = make.manager(org)
    services.decide(two.pk, manager, accept=False)  # refused: both its places free
    three.refresh_from_db()
    assert three.status == A.PENDING and statuses(three) == {first.pk: B.BOOKED}
    assert statuses(two) == {first.pk: B.RELEASED, second.pk: B.RELEASED}
    mission.refresh_from_db()
    assert mission.active_count == 1


def test_the_choice_of_slots_is_checked(org, demo):
    mission, (first, second) = slotted(org, places=(1, 1), waiting_list=False)
    other, (elsewhere,) = slotted(make.organisation(demo["localhost"]), places=(5,))
    volunteer = make.volunteer()
    refusals = {
        "slots_required": [],
        "invalid_slots": [elsewhere.pk],
    }
    for code, chosen in refusals.items():
        with pytest.raises(services.ApplicationRefused) as refused:
            services.apply(mission.pk, volunteer, "", chosen)
        assert refused.value.code == code
    Slot.objects.filter(pk=second.pk).update(start=at(-1), end=at(5))
    with pytest.raises(services.ApplicationRefused) as refused:
        services.apply(mission.pk, volunteer, "", [second.pk])
    assert refused.value.code == "slot_started"
    services.apply(mission.pk, make.volunteer(), "", [first.pk])
    with pytest.raises(services.ApplicationRefused) as refused:  # full, no waiting list
        services.apply(mission.pk, volunteer, "", [first.pk])
    assert refused.value.code == "full"
    with pytest.raises(services.ApplicationRefused) as refused:  # slots of a plain mission
        services.apply(make.mission(org).pk, volunteer, "", [first.pk])
    assert refused.value.code == "invalid_slots"
    assert not Application.objects.filter(volunteer=volunteer).exists()


def test_a_mission_without_slots_works_as_before(org):
    mission = make.mission(org, places=1)
    one = services.apply(mission.pk, make.volunteer())
    two = services.apply(mission.pk, make.volunteer())
    assert (one.status, two.status) == (A.PENDING, A.WAITLISTED)
    assert not Booking.objects.exists()
    services.cancel(one.pk, one.volunteer)
    two.refresh_from_db()
    assert two.status == A.PENDING
    assert emails("application-promoted") == [f"application-promoted:{two.pk}"]


# --- Reminders: before each slot, to the volunteers who hold a place on it ------------------


def test_reminders_go_before_each_slot_to_its_accepted_volunteers(org):
    manager = make.manager(org)
    mission, (first, second) = slotted(org, places=(2, 2))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    Slot.objects.filter(pk=first.pk).update(start=at(1, 18), end=at(1, 20))
    both = services.apply(mission.pk, make.volunteer(), "", [first.pk, second.pk])
    later = services.apply(mission.pk, make.volunteer(), "", [second.pk])
    pending = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    for application in (both, later):
        services.decide(application.pk, manager, accept=True)
    plain = make.mission(org, start_date=tomorrow)  # a mission without slots, as before
    whole = services.apply(plain.pk, make.volunteer())
    services.decide(whole.pk, manager, accept=True)
    assert services.remind(tomorrow) == 2
    assert services.remind(tomorrow) == 2  # again: the outbox keeps one email per key
    day = tomorrow.isoformat()
    assert emails("application-reminder") == sorted(
        [
            f"application-reminder:{both.pk}:{day}:slot-{first.pk}",
            f"application-reminder:{whole.pk}:{day}",
        ]
    )
    reminder = OutboundEmail.objects.get(idempotency_key__endswith=f"slot-{first.pk}")
    assert reminder.to_email == both.volunteer.email
    assert reminder.context["slots"] and "18:00–20:00" in reminder.context["slots"][0]
    assert pending.volunteer.email not in OutboundEmail.objects.filter(
        idempotency_key__startswith="application-reminder"
    ).values_list("to_email", flat=True)
    second_day = (timezone.localdate() + datetime.timedelta(days=4)).isoformat()
    services.remind(timezone.localdate() + datetime.timedelta(days=4))
    assert emails(f"application-reminder:{later.pk}") == [
        f"application-reminder:{later.pk}:{second_day}:slot-{second.pk}"
    ]


# --- API ---------------------------------------------------------------------------------------


def api_client(volunteer):
    client = make.client_for(volunteer, enforce_csrf_checks=True)
    token = client.get("/api/v1/csrf").json()["csrfToken"]
    return client, token


def test_the_api_shows_slots_and_takes_them_with_an_application(org, demo):
    mission, (first, second) = slotted(org, places=(1, 2))
    started = Slot.objects.create(mission=mission, start=at(-1), end=at(2), places=4)
    services.apply(mission.pk, make.volunteer(), "", [first.pk])
    body = make.client_for().get(f"/api/v1/missions/{mission.pk}").json()
    assert body["slots"] == [
        {
            "id": first.pk,
            "start": first.start.isoformat().replace("+00:00", "Z"),
            "end": first.end.isoformat().replace("+00:00", "Z"),
            "places_left": 0,
        },
        {
            "id": second.pk,
            "start": second.start.isoformat().replace("+00:00", "Z"),
            "end": second.end.isoformat().replace("+00:00", "Z"),
            "places_left": 2,
        },
    ]  # the started slot is not offered
    assert started.pk not in {s["id"] for s in body["slots"]}
    plain = make.mission(org)
    assert make.client_for().get(f"/api/v1/missions/{plain.pk}").json()["slots"] == []

    volunteer = make.volunteer()
    client, token = api_client(volunteer)
    url = f"/api/v1/missions/{mission.pk}/applications"

    def post(payload, path=url):
        return client.post(path, payload, content_type="application/json", HTTP_X_CSRFTOKEN=token)

    refusals = [
        ({"slots": []}, "slots_required"),
        ({}, "slots_required"),
        ({"slots": [started.pk]}, "slot_started"),
        ({"slots": [first.pk, 10**12]}, "invalid_slots"),
        ({"slots": ["x"]}, "invalid"),
        ({"slots": "1"}, "invalid"),
        ({"slots": list(range(101))}, "invalid"),
    ]
    for payload, code in refusals:
        response = post(payload)
        assert response.status_code == 400, (payload, response.content)
        assert response.json()["error"] == code
    assert (
        post({"slots": [first.pk]}, f"/api/v1/missions/{plain.pk}/applications").json()["error"]
        == "invalid_slots"
    )
    assert not Application.objects.filter(volunteer=volunteer).exists()
    created = post({"slots": [second.pk, first.pk, first.pk], "message": "Les deux"})
    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    assert created.json()["slots"] == [
        {"slot": first.pk, "status": "waitlisted"},
        {"slot": second.pk, "status": "booked"},
    ]
    schema = make.client_for().get("/api/v1/schema").json()["components"]["schemas"]
    assert set(schema["SlotOut"]["properties"]) == {"id", "start", "end", "places_left"}
    assert "slots" in schema["ApplicationIn"]["properties"]


# --- The mission page and the application form ------------------------------------------------


def test_the_mission_page_lists_the_slots_and_the_form_lets_the_volunteer_tick_them(org):
    mission, (first, second) = slotted(org, places=(1, 2))
    services.apply(mission.pk, make.volunteer(), "", [first.pk])
    page = unescape(make.client_for().get(mission.get_absolute_url()).text)
    assert "Créneaux" in page
    assert "Complet : liste d'attente ouverte" in page and "2 places restantes" in page
    assert "2 places restantes sur 2 créneaux" in page

    volunteer = make.volunteer()
    client = make.client_for(volunteer)
    url = f"/fr/missions/{mission.pk}/candidater/"
    form = unescape(client.get(url).text)
    assert f'name="slots" value="{first.pk}"' in form and f'value="{second.pk}"' in form
    assert "complet : liste d'attente" in form and "2 places restantes" in form
    missing = client.post(url, {"message": "Bonjour"})
    assert missing.status_code == 400
    assert "Choisissez au moins un créneau." in unescape(missing.text)
    foreign = client.post(url, {"slots": [999999]})
    assert foreign.status_code == 400 and "fr-fieldset--error" in foreign.text
    assert not Application.objects.filter(volunteer=volunteer).exists()
    sent = client.post(url, {"slots": [first.pk, second.pk], "message": "Samedi"})
    assert sent.status_code == 302
    application = Application.objects.get(volunteer=volunteer)
    assert statuses(application) == {first.pk: B.WAITLISTED, second.pk: B.BOOKED}
    done = unescape(client.get(sent["Location"]).text)
    assert "Vos créneaux" in done and "A une place" in done and "Sur liste d'attente" in done


def test_a_full_slot_without_waiting_list_is_a_form_error(org):
    mission, (first, second) = slotted(org, places=(1, 1), waiting_list=False)
    services.apply(mission.pk, make.volunteer(), "", [first.pk])
    volunteer = make.volunteer()
    client = make.client_for(volunteer)
    response = client.post(f"/fr/missions/{mission.pk}/candidater/", {"slots": [first.pk]})
    assert response.status_code == 400
    assert "L'un de ces créneaux est complet : choisissez-en d'autres." in unescape(response.text)
    assert not Application.objects.filter(volunteer=volunteer).exists()


# --- The association's side: slots on the mission form, applicants per slot ------------------


def mission_data(mission, **changes):
    data = {
        "title": mission.title,
        "description": mission.description,
        "audience": "all",
        "places": mission.places,
        "postal_code": mission.postal_code,
        "city": mission.city,
        "minimum_age": mission.minimum_age,
        "waiting_list": "on",
        "sites": [s.pk for s in mission.sites.all()],
    }
    data.update(changes)
    return data


def slot_rows(*rows, initial=0) -> dict:
    """The formset's fields: rows of (id or "", start, end, places, delete)."""
    data = {"slots-TOTAL_FORMS": len(rows), "slots-INITIAL_FORMS": initial}
    for i, (pk, start, end, places, delete) in enumerate(rows):
        data.update(
            {
                f"slots-{i}-id": pk,
                f"slots-{i}-start": start.strftime("%Y-%m-%dT%H:%M") if start else "",
                f"slots-{i}-end": end.strftime("%Y-%m-%dT%H:%M") if end else "",
                f"slots-{i}-places": places,
            }
        )
        if delete:
            data[f"slots-{i}-DELETE"] = "on"
    return data


def local(moment):
    return timezone.localtime(moment)


def test_managers_add_edit_and_remove_slots_on_the_mission_form(org):
    manager = make.manager(org)
    client = make.client_for(manager)
    mission = make.mission(org, places=3)
    url = f"/fr/espace-association/{org.pk}/missions/{mission.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="slots-TOTAL_FORMS"' in page.text
    rows = slot_rows(
        ("", local(at(5)), local(at(5, 12)), 2, False),
        ("", local(at(6)), local(at(6, 12)), 1, False),
        ("", None, None, 1, False),  # an empty row: ignored
    )
    assert client.post(url, {**mission_data(mission), **rows}).status_code == 302
    first, second = mission.slots.order_by("start")
    assert (first.places, second.places, first.start) == (2, 1, at(5))
    mission.refresh_from_db()
    assert mission.places == 3 and mission.end_date == at(6).date()
    page = client.get(url).text  # dates as a date input reads them (ISO), slots likewise
    assert f'name="end_date" value="{at(6).date().isoformat()}"' in page
    assert f'name="slots-0-start" value="{local(at(5)):%Y-%m-%dT%H:%M}"' in page

    taken = services.apply(mission.pk, make.volunteer(), "", [first.pk, second.pk])
    waiting = services.apply(mission.pk, make.volunteer(), "", [second.pk])
    existing = [(first.pk, local(first.start), local(first.end), 2, False)]
    removing = slot_rows(
        *existing, (second.pk, local(second.start), local(second.end), 1, True), initial=2
    )
    refused = client.post(url, {**mission_data(mission), **removing})
    assert refused.status_code == 400
    assert "compte 2 bénévoles : il ne peut pas être retiré" in unescape(refused.text)
    assert mission.slots.count() == 2
    shrinking = slot_rows((first.pk, local(first.start), local(first.end), 0, False), initial=1)
    assert client.post(url, {**mission_data(mission), **shrinking}).status_code == 400
    assert Slot.objects.get(pk=first.pk).places == 2
    growing = slot_rows(
        *existing, (second.pk, local(second.start), local(second.end), 2, False), initial=2
    )
    assert client.post(url, {**mission_data(mission), **growing}).status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == A.PENDING and statuses(waiting) == {second.pk: B.BOOKED}
    mission.refresh_from_db()
    assert mission.places == 4 and mission.active_count == 3
    services.cancel(taken.pk, taken.volunteer)
    services.cancel(waiting.pk, waiting.volunteer)
    removed = slot_rows(
        *existing, (second.pk, local(second.start), local(second.end), 2, True), initial=2
    )
    assert client.post(url, {**mission_data(mission), **removed}).status_code == 302
    assert list(mission.slots.values_list("pk", flat=True)) == [first.pk]
    # A post without the slot rows (an older page) leaves the slots alone.
    assert client.post(url, mission_data(mission, title="Nouveau titre")).status_code == 302
    assert mission.slots.count() == 1


def test_a_new_mission_is_created_with_its_slots(org):
    client = make.client_for(make.manager(org))
    data = {
        **mission_data(make.mission(org), title="Collecte en créneaux", places=1),
        **slot_rows(("", local(at(4)), local(at(4, 11)), 3, False), ("", None, None, 1, False)),
    }
    response = client.post(f"/fr/espace-association/{org.pk}/missions/nouvelle/", data)
    assert response.status_code == 302
    created = Mission.objects.get(title="Collecte en créneaux")
    assert created.status == Mission.Status.DRAFT and created.places == 3
    assert list(created.slots.values_list("start", "places")) == [(at(4), 3)]
    past = {**data, **slot_rows(("", local(at(-2)), local(at(-2, 11)), 3, False))}
    refused = client.post(f"/fr/espace-association/{org.pk}/missions/nouvelle/", past)
    assert refused.status_code == 400
    assert "Un nouveau créneau ne peut pas commencer dans le passé." in unescape(refused.text)
    assert Mission.objects.filter(title="Collecte en créneaux").count() == 1


def test_a_mission_with_whole_mission_applications_gets_no_first_slot(org):
    mission = make.mission(org)
    services.apply(mission.pk, make.volunteer())
    with pytest.raises(ValidationError):
        services.save_mission(
            mission,
            org,
            make.manager(org),
            slots=[services.SlotChange(None, at(4), at(4, 12), 2)],
        )
    assert not mission.slots.exists()
    with pytest.raises(ValidationError):  # and a new slot never starts in the past
        services.save_slots(make.mission(org), [services.SlotChange(None, at(-1), at(1), 2)])
    other, (gone,) = slotted(org, places=(2,))
    Slot.objects.filter(pk=gone.pk).delete()  # another manager removed it meanwhile
    with pytest.raises(ValidationError):
        services.save_slots(other, [services.SlotChange(gone, at(5), at(5, 12), 2)])
    assert not other.slots.exists()


def test_the_applicants_page_groups_and_filters_per_slot(org):
    manager = make.manager(org)
    mission, (first, second) = slotted(org, places=(1, 2))
    ada = services.apply(mission.pk, make.volunteer(first_name="Ada"), "", [first.pk])
    bob = services.apply(mission.pk, make.volunteer(first_name="Bob"), "", [second.pk])
    cy = services.apply(mission.pk, make.volunteer(first_name="Cyd"), "", [first.pk])
    client = make.client_for(manager)
    url = f"/fr/espace-association/{org.pk}/missions/{mission.pk}/candidatures/"
    page = unescape(client.get(url).text)
    assert "Par créneau" in page and f'href="?slot={first.pk}"' in page
    assert "A une place" in page and "Sur liste d'attente" in page
    only_first = unescape(client.get(url, {"slot": first.pk}).text)
    assert ada.volunteer.email in only_first and cy.volunteer.email in only_first
    assert bob.volunteer.email not in only_first
    export = url.rstrip("/") + ".csv"
    rows = list(csv.reader(io.StringIO(client.get(export, {"slot": first.pk}).content.decode())))
    assert rows[0][-1] == "Créneaux"
    by_email = {row[2]: row[-1] for row in rows[1:]}
    start = f"{local(first.start):%Y-%m-%d %H:%M}-{local(first.end):%H:%M}"
    assert by_email == {
        ada.volunteer.email: f"{start} (A une place)",
        cy.volunteer.email: f"{start} (Sur liste d'attente)",
    }


# --- Isolation: an association never sees nor changes another's slots -------------------------


def test_an_association_never_sees_or_edits_another_associations_slots(org, demo):
    mission, (first, _second) = slotted(org, places=(1, 2))
    applicant = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    other = make.organisation(demo["localhost"])
    own = make.mission(other)
    intruder = make.client_for(make.manager(other))
    base = f"/fr/espace-association/{org.pk}/missions/{mission.pk}"
    assert intruder.get(f"{base}/").status_code == 404
    rows = slot_rows((first.pk, local(at(9)), local(at(9, 12)), 9, True), initial=1)
    assert intruder.post(f"{base}/", {**mission_data(mission), **rows}).status_code == 404
    assert intruder.get(f"{base}/candidatures/", {"slot": first.pk}).status_code == 404
    # Through its own mission: another mission's slot id is no slot of this form.
    own_url = f"/fr/espace-association/{other.pk}/missions/{own.pk}/"
    editing = slot_rows((first.pk, local(at(9)), local(at(9, 12)), 9, False), initial=1)
    for attempt in (rows, editing):
        response = intruder.post(own_url, {**mission_data(own), **attempt})
        assert response.status_code == 400
        assert "Ce créneau n'existe plus : rechargez la page." in unescape(response.text)
    first.refresh_from_db()
    assert (first.places, first.start) == (1, at(3)) and not own.slots.exists()
    with pytest.raises(Exception):  # noqa: B017, PT011 - the service refuses it too
        services.save_slots(own, [services.SlotChange(first, at(9), at(9, 12), 9)])
    listing = intruder.get(
        f"/fr/espace-association/{other.pk}/missions/{own.pk}/candidatures/", {"slot": first.pk}
    )
    assert listing.status_code == 200
    assert applicant.volunteer.email not in listing.text and "Par créneau" not in unescape(
        listing.text
    )


def test_the_volunteer_space_lists_the_slots_of_each_application(org):
    mission, (first, second) = slotted(org, places=(1, 2))
    services.apply(mission.pk, make.volunteer(), "", [first.pk])
    volunteer = make.volunteer()
    services.apply(mission.pk, volunteer, "", [first.pk, second.pk])
    page = unescape(make.client_for(volunteer).get("/fr/espace/candidatures/").text)
    first_line = f"{local(first.start):%H:%M}–{local(first.end):%H:%M} · Sur liste d'attente"
    second_line = f"{local(second.start):%H:%M}–{local(second.end):%H:%M} · A une place"
    assert first_line in page and second_line in page


def test_moderators_read_the_slots_of_a_mission_they_moderate(org, demo):
    mission, (first, _second) = slotted(org, places=(1, 2))
    services.apply(mission.pk, make.volunteer(), "", [first.pk])
    client = make.client_for(make.moderator(demo["localhost"]))
    page = unescape(client.get(f"/admin/mission_queue/inspect/{mission.pk}/", follow=True).text)
    label = f"{local(first.start):%H:%M}–{local(first.end):%H:%M} (1/1)"
    assert "Créneaux" in page and label in page
    other = make.client_for(make.moderator(demo["covid19.localhost"]))
    assert other.get(f"/admin/mission_queue/inspect/{mission.pk}/", follow=True).status_code == 404


def test_volunteers_on_a_slot_whose_time_moves_are_told_the_new_time(org):
    mission, (first, second) = slotted(org, places=(1, 2))
    booked = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    waiting = services.apply(mission.pk, make.volunteer(), "", [first.pk])
    elsewhere = services.apply(mission.pk, make.volunteer(), "", [second.pk])
    change = [
        services.SlotChange(first, at(3, 14), at(3, 17), 1),
        services.SlotChange(second, second.start, second.end, 3),  # more places, same time
    ]
    services.save_slots(mission, change)
    services.save_slots(mission, change)  # the same again: no second email
    moved = OutboundEmail.objects.filter(idempotency_key__startswith="slot-moved:")
    assert sorted(moved.values_list("to_email", flat=True)) == sorted(
        [booked.volunteer.email, waiting.volunteer.email]
    )
    assert elsewhere.volunteer.email not in moved.values_list("to_email", flat=True)
    rendered = sending.render(moved.get(to_email=booked.volunteer.email))
    assert rendered.subject == f"Créneau modifié : {mission.title}"
    assert "a changé l'horaire de votre créneau" in rendered.text
    assert "14:00–17:00" in rendered.text
