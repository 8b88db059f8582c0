"""What happens to missions and applications. Views, the API, the admin and beat tasks call
these; the rules ("capacity is never exceeded") live here once."""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from wagtail.models import Site

from emails.models import OutboundEmail
from emails.outbox import queue_email
from moderation import history
from organisations.services import email_team, notify_decision, role_for
from portal import languages
from portal.slugs import save_with_unique_slug
from portal.workflow import MANAGER, MODERATOR, SYSTEM, VOLUNTEER

from .models import Application, Booking, Favourite, Mission, Slot
from .states import APPLICATION, MISSION, NOTIFIED

logger = logging.getLogger(__name__)


class ApplicationRefused(Exception):
    """The volunteer cannot apply; `code` says why (an API maps it to a status)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- Missions -------------------------------------------------------------------------------


@transaction.atomic
def move_mission(mission: Mission, target: str, user=None, reason: str = "") -> Mission:
    mission = Mission.objects.select_for_update().get(pk=mission.pk)
    role = SYSTEM if user is None else (role_for(user, mission.organisation, mission) or "")
    MISSION.check(mission.status, target, role)
    history.record(mission, mission.status, target, user, reason)
    mission.status = target
    if target == Mission.Status.REFUSED:
        mission.refusal_reason = reason
    mission.save(update_fields=["status", "refusal_reason", "updated_at"])
    if target in NOTIFIED and role == MODERATOR:
        notify_decision(
            mission.organisation,
            mission,
            "mission",
            reason,
            mission.updated_at,
            site=mission_site(mission),
            subject_name=mission.title,
            **about(mission),
        )
    return mission


# What a manager edits, in the form's order. Everything but places and the waiting list is
# what volunteers read: changing it on a validated mission sends it back to moderation (places
# and the waiting list are capacity, not content, and apply at once). Never the status, the
# counters or the organisation.
MISSION_FIELDS = (
    "title",
    "description",
    "domain",
    "activity",
    "audience",
    "is_remote",
    "address",
    "postal_code",
    "city",
    "start_date",
    "end_date",
    "is_recurring",
    "schedule",
    "places",
    "waiting_list",
    "prerequisites",
    "minimum_age",
    "sites",
)
MODERATED_FIELDS = set(MISSION_FIELDS) - {"places", "waiting_list"}
EDITABLE_FIELDS = set(MISSION_FIELDS) - {"sites"}


def allowed_sites(organisation):
    """The portals a mission may be shown on: its organisation's, whose moderators moderate
    the organisation and its missions. Anywhere else, no moderator would ever see it."""
    return Site.objects.filter(pk=organisation.site_id)


def check_sites(organisation, sites) -> list:
    """The chosen portals, or the organisation's when none is chosen; any other is an error."""
    allowed = list(allowed_sites(organisation))
    chosen = list(sites or [])
    if any(site not in allowed for site in chosen):
        raise ValidationError(
            {"sites": _("A mission can only be shown on its organisation's portal.")}
        )
    return chosen or allowed


@transaction.atomic
def save_mission(
    mission: Mission, organisation, user, changed=(), sites=None, submit=False, slots=None
):
    """Create or edit a mission from the dashboard (a manager of `organisation`).

    `mission` carries the submitted values (a form's unsaved instance, read before this
    request's lock, so its `active_count` may be stale) and `changed` names the fields the
    manager changed. An edit locks the mission row and writes the changed fields only, so an
    application counted meanwhile is never overwritten; places may not drop below the active
    applications; more places promote from the waiting list; and a content change to a
    validated mission sends it back to moderation, so nothing unmoderated goes public.
    `slots` (SlotChange list) adds, edits and removes its slots (save_slots).
    """
    if not organisation.memberships.filter(user=user).exists():
        raise PermissionDenied
    sites = check_sites(organisation, sites)
    if mission.pk is None:
        mission.organisation = organisation
        mission.status = Mission.Status.DRAFT
        mission.active_count = 0
        mission.full_clean(exclude=["slug"])
        save_with_unique_slug(mission, mission.title, fallback="mission", max_length=150)
        mission.sites.set(sites)
        current = mission
        if slots:
            save_slots(current, slots)
    else:
        current = Mission.objects.select_for_update().get(pk=mission.pk, organisation=organisation)
        fields = [name for name in changed if name in EDITABLE_FIELDS]
        old_places = current.places
        for name in fields:
            setattr(current, name, getattr(mission, name))
        current.full_clean(exclude=["slug"])
        if slots is not None:
            save_slots(current, slots)  # with slots, places and dates are the slots'
        slotted = current.slots.exists()
        active = 0 if slotted else current.active_applications().count()
        if current.places < active:
            raise ValidationError(
                {
                    "places": _("%(n)d applications are active: keep at least %(n)d places.")
                    % {"n": active}
                }
            )
        sites_changed = {s.pk for s in sites} != set(current.sites.values_list("pk", flat=True))
        content_changed = sites_changed or bool(MODERATED_FIELDS.intersection(fields))
        if current.status == Mission.Status.VALIDATED and content_changed:
            MISSION.check(current.status, Mission.Status.SUBMITTED, SYSTEM)
            history.record(current, current.status, Mission.Status.SUBMITTED, user)
            current.status = Mission.Status.SUBMITTED
            fields.append("status")
        current.save(update_fields=[*fields, "updated_at"])
        if sites_changed:
            current.sites.set(sites)
        if current.places > old_places and not slotted:
            promote(current)
    if submit and MISSION.allowed(current.status, Mission.Status.SUBMITTED, MANAGER):
        history.record(current, current.status, Mission.Status.SUBMITTED, user)
        current.status = Mission.Status.SUBMITTED
        current.save(update_fields=["status", "updated_at"])
    return current


@dataclass
class SlotChange:
    """One row of the slots a manager edits: `slot` is None for a new one (it must be one of
    the mission's own otherwise), `delete` removes it."""

    slot: Slot | None
    start: datetime | None = None
    end: datetime | None = None
    places: int = 1
    delete: bool = False


def save_slots(mission: Mission, changes: list[SlotChange]) -> None:
    """Add, edit and remove a mission's slots (the caller holds the mission's row lock).

    A slot on which volunteers hold or wait for a place is not removed, and its places never
    drop below those booked; a new slot starts in the future. A mission whose volunteers
    applied to it as a whole (no slots) cannot get its first slot. With slots, the mission's
    places are their sum and its dates run from the first slot to the last, so search,
    listings and closing after the end date keep working; more places promote per slot.
    """
    had_slots = mission.slots.exists()
    counts = {slot.pk: slot for slot in mission.slots.with_counts()}
    errors, moved = [], []
    for change in changes:
        slot = change.slot
        if slot is not None and slot.mission_id != mission.pk:
            raise PermissionDenied("Not a slot of this mission.")
        if slot is not None and slot.pk not in counts:  # removed by another manager meanwhile
            errors.append(_("This slot is no longer there: reload the page."))
            continue
        if change.delete:
            if slot is None:
                continue
            held = counts[slot.pk].booked + counts[slot.pk].waiting
            if held:
                errors.append(
                    _("The slot of %(when)s has %(n)d volunteers: it cannot be removed.")
                    % {"when": slot_label(slot), "n": held}
                )
            else:
                slot.delete()
            continue
        if slot is None:
            slot = Slot(mission=mission)
            if change.start <= timezone.now():
                errors.append(_("A new slot cannot start in the past."))
                continue
        booked = counts[slot.pk].booked if slot.pk else 0
        if change.places < booked:
            errors.append(
                _("%(n)d volunteers have a place on the slot of %(when)s: keep at least %(n)d.")
                % {"n": booked, "when": slot_label(slot)}
            )
            continue
        if slot.pk and (change.start, change.end) != (counts[slot.pk].start, counts[slot.pk].end):
            moved.append(slot)
        slot.start, slot.end, slot.places = change.start, change.end, change.places
        try:
            slot.full_clean(exclude=["mission"])
        except ValidationError as invalid:
            errors.extend(invalid.messages)
            continue
        slot.save()
    if errors:
        raise ValidationError(errors)
    for slot in moved:
        tell_slot_moved(mission, slot)
    if (
        not had_slots
        and mission.slots.exists()
        and mission.applications.filter(status__in=LIVE).exists()
    ):
        raise ValidationError(
            _("Volunteers applied to this mission as a whole: it cannot be split in slots now.")
        )
    if mission.slots.exists():
        span = mission.slots.aggregate(places=Sum("places"), first=Min("start"), last=Max("end"))
        mission.places = span["places"]
        mission.start_date = timezone.localdate(span["first"])
        mission.end_date = timezone.localdate(span["last"])
        Mission.objects.filter(pk=mission.pk).update(
            places=mission.places, start_date=mission.start_date, end_date=mission.end_date
        )
        promote(mission)
        recount(mission)


def tell_slot_moved(mission: Mission, slot: Slot) -> None:
    """The volunteers holding or waiting for a place on a slot whose time changed get its new
    time, once per new time."""
    bookings = slot.bookings.filter(
        status__in=(Booking.Status.BOOKED, Booking.Status.WAITLISTED)
    ).select_related("application__volunteer", "slot")
    for booking in bookings:
        moved = f"{slot.start:%Y%m%dT%H%M}-{slot.end:%Y%m%dT%H%M}"
        notify_booking(booking, mission, f"slot-moved:{booking.pk}:{moved}", "slot_moved")


def slot_label(slot: Slot) -> str:
    """ "Saturday 12 December 2026, 09:00–12:00" in the current language and time zone."""
    start, end = timezone.localtime(slot.start), timezone.localtime(slot.end)
    day = formats.date_format(start, "l j F Y")
    if start.date() == end.date():
        return f"{day}, {start:%H:%M}–{end:%H:%M}"
    return f"{day}, {start:%H:%M} – {formats.date_format(end, 'l j F Y')}, {end:%H:%M}"


def slot_lines(bookings, language: str) -> list[str]:
    """The slots of an email, in its reader's language, a waiting one said so."""
    with translation.override(languages.supported(language)):
        return [
            slot_label(booking.slot)
            + (_(" (waiting list)") if booking.status == Booking.Status.WAITLISTED else "")
            for booking in bookings
        ]


# What a copy of a mission keeps: what the manager wrote, not its dates (a new occurrence has
# its own), its state, its counts or its place in search.
COPIED_FIELDS = tuple(name for name in EDITABLE_FIELDS if name not in ("start_date", "end_date"))


@transaction.atomic
def duplicate_mission(mission: Mission, organisation, user) -> Mission:
    """A new draft from one of `organisation`'s missions (a manager's), to edit and submit:
    moderated like any new mission. Its place (coordinates) comes along; nothing else."""
    if not organisation.memberships.filter(user=user).exists() or (
        mission.organisation_id != organisation.pk
    ):
        raise PermissionDenied
    copy = Mission(
        organisation=organisation,
        status=Mission.Status.DRAFT,
        latitude=mission.latitude,
        longitude=mission.longitude,
        geocode_status=mission.geocode_status,
        geocoded_at=mission.geocoded_at,
        **{name: getattr(mission, name) for name in COPIED_FIELDS},
    )
    copy.title = (_("%(title)s (copy)") % {"title": mission.title})[:200]
    save_with_unique_slug(copy, copy.title, fallback="mission", max_length=150)
    copy.sites.set(check_sites(organisation, mission.sites.all()))
    history.record(copy, "", Mission.Status.DRAFT, user, f"copy of #{mission.pk}")
    return copy


def close_ended(today) -> int:
    closed = 0
    for mission in Mission.objects.filter(status=Mission.Status.VALIDATED, end_date__lt=today):
        move_mission(mission, Mission.Status.CLOSED)
        closed += 1
    return closed


# --- Applications ---------------------------------------------------------------------------


def age_on(birth_date, day) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def too_young(volunteer, mission: Mission) -> bool:
    """Younger than the mission's minimum age on its first day (today if it has begun). An
    account without a birth date (made in the admin) is not refused: signup requires one."""
    if volunteer.birth_date is None or not mission.minimum_age:
        return False
    day = max(mission.start_date or timezone.localdate(), timezone.localdate())
    return age_on(volunteer.birth_date, day) < mission.minimum_age


def apply(mission_id: int, volunteer, message: str = "", slots=()) -> Application:
    """Apply, or join the waiting list: never more active applications than places.

    The mission row is locked (SELECT ... FOR UPDATE) while counting and inserting, so
    hundreds of simultaneous applicants to the last place are served one at a time; the
    unique constraint (mission, volunteer) stops a double application. A mission with slots
    takes the ids of one or more of them (apply_to_slots).
    """
    if not volunteer.is_authenticated or not volunteer.is_active:
        raise ApplicationRefused("forbidden", "Sign in to apply.")
    if volunteer.email_confirmed_at is None:
        raise ApplicationRefused("unconfirmed", "Confirm your email address first.")
    try:
        with transaction.atomic():
            mission = Mission.objects.select_for_update().get(pk=mission_id)
            if not Mission.objects.public().filter(pk=mission.pk).exists():
                raise ApplicationRefused("closed", "This mission takes no applications.")
            if Application.objects.filter(mission=mission, volunteer=volunteer).exists():
                raise ApplicationRefused("duplicate", "You already applied to this mission.")
            if too_young(volunteer, mission):
                raise ApplicationRefused(
                    "too_young", f"This mission is open from age {mission.minimum_age}."
                )
            chosen = choose_slots(mission, slots)
            if chosen:
                return apply_to_slots(mission, volunteer, message, chosen)
            active = mission.active_applications().count()
            status = Application.Status.PENDING
            if active >= mission.places:
                if not mission.waiting_list:
                    raise ApplicationRefused("full", "This mission is full.")
                status = Application.Status.WAITLISTED
            application = Application.objects.create(
                mission=mission, volunteer=volunteer, message=message[:2000], status=status
            )
            if status == Application.Status.PENDING:
                Mission.objects.filter(pk=mission.pk).update(active_count=active + 1)
            announce(application)
    except IntegrityError as exc:  # the same volunteer, twice at the same instant
        raise ApplicationRefused("duplicate", "You already applied to this mission.") from exc
    return application


def choose_slots(mission: Mission, slot_ids) -> list[Slot]:
    """The slots an application names (the caller holds the mission's lock): none for a
    mission without slots; else at least one, each the mission's own and not started."""
    wanted = sorted(set(slot_ids))
    offered = {slot.pk: slot for slot in mission.slots.all()}
    if not offered and not wanted:
        return []
    if not wanted:
        raise ApplicationRefused("slots_required", "Choose at least one slot.")
    unknown = [pk for pk in wanted if pk not in offered]
    if unknown:
        raise ApplicationRefused("invalid_slots", f"Not slots of this mission: {unknown}.")
    started = [pk for pk in wanted if offered[pk].started]
    if started:
        raise ApplicationRefused("slot_started", f"These slots have started: {started}.")
    return [offered[pk] for pk in wanted]


def booked_counts(mission: Mission) -> dict[int, int]:
    """Places held per slot of the mission (a booking is BOOKED only while its application
    is pending or accepted: set_status releases it)."""
    return dict(
        Booking.objects.filter(slot__mission=mission, status=Booking.Status.BOOKED)
        .values_list("slot")
        .annotate(n=Count("pk"))
    )


def apply_to_slots(mission: Mission, volunteer, message: str, chosen: list[Slot]):
    """The rule per slot (mission locked): a place on each chosen slot that has one left, the
    slot's waiting list on each full one. The application is pending when it holds at least
    one place, waitlisted when it waits on all its slots. Without a waiting list, a full slot
    refuses the whole application (the volunteer chooses again)."""
    booked = booked_counts(mission)
    full = {slot.pk for slot in chosen if booked.get(slot.pk, 0) >= slot.places}
    if full and not mission.waiting_list:
        raise ApplicationRefused("full", f"These slots are full: {sorted(full)}.")
    status = Application.Status.PENDING
    if len(full) == len(chosen):
        status = Application.Status.WAITLISTED
    application = Application.objects.create(
        mission=mission, volunteer=volunteer, message=message[:2000], status=status
    )
    bookings = Booking.objects.bulk_create(
        Booking(
            application=application,
            slot=slot,
            status=Booking.Status.WAITLISTED if slot.pk in full else Booking.Status.BOOKED,
        )
        for slot in chosen
    )
    held = sum(booked.values()) + len(chosen) - len(full)
    Mission.objects.filter(pk=mission.pk).update(active_count=held)
    announce(application, slots=slot_lines(bookings, getattr(volunteer, "language", "fr")))
    return application


def announce(application: Application, **context) -> None:
    """A new application: the volunteer's receipt (pending or waitlisted) and the team's
    notice, in the applying transaction."""
    volunteer, mission = application.volunteer, application.mission
    notify(
        volunteer,
        mission,
        "application",
        f"application-received:{application.pk}",
        event=application.status,
        **context,
    )
    notify_team(
        mission,
        f"application-manager:{application.pk}",
        event="new_applicant",
        applicant=volunteer.get_full_name(),
    )


def recount(mission: Mission) -> None:
    """Refresh the denormalised active count (the caller holds the mission's row lock): the
    active applications, or with slots the places booked on them."""
    if mission.slots.exists():
        mission.active_count = sum(booked_counts(mission).values())
    else:
        mission.active_count = mission.active_applications().count()
    Mission.objects.filter(pk=mission.pk).update(active_count=mission.active_count)


# An application in these states holds or waits for a place (on its slots, if any).
LIVE = (*Application.ACTIVE, Application.Status.WAITLISTED)


def set_status(application: Application, target: str, role: str, **fields) -> Application:
    """Move an application (its mission locked by the caller); one that is over (refused,
    cancelled, done...) frees its places and leaves the waiting lists of its slots."""
    APPLICATION.check(application.status, target, role)
    application.status = target
    application.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(application, name, value)
    application.save()
    if target not in LIVE:
        application.bookings.exclude(status=Booking.Status.RELEASED).update(
            status=Booking.Status.RELEASED
        )
    return application


def decide(application_id: int, manager, accept: bool, reason: str = "", text: str = ""):
    with transaction.atomic():
        application = Application.objects.select_related("mission").get(pk=application_id)
        mission = Mission.objects.select_for_update().get(pk=application.mission_id)
        role = role_for(manager, mission.organisation) or ""
        application = Application.objects.select_for_update().get(pk=application_id)
        if accept:
            set_status(application, Application.Status.ACCEPTED, role)
            notify(
                application.volunteer,
                mission,
                "application",
                f"application-accepted:{application.pk}",
                event="accepted",
            )
        else:
            set_status(
                application,
                Application.Status.REFUSED,
                role,
                refusal_reason=reason or Application.RefusalReason.OTHER,
                reason_text=text,
            )
            notify(
                application.volunteer,
                mission,
                "application",
                f"application-refused:{application.pk}",
                event="refused",
                reason=text,
            )
            recount(mission)
            promote(mission)
    return application


def act(application_id: int, manager, target: str, reason: str = "", text: str = ""):
    """A manager's action from the applicants page: the status they ask for decides which
    rule applies (a decision, or whether the volunteer came)."""
    if target in (Application.Status.ACCEPTED, Application.Status.REFUSED):
        return decide(application_id, manager, target == Application.Status.ACCEPTED, reason, text)
    return mark_attendance(application_id, manager, target == Application.Status.DONE)


def mark_attendance(application_id: int, manager, happened: bool) -> Application:
    """After the mission: did the accepted volunteer come? Either way the application is no
    longer active, so the count is refreshed (mission locked first, as everywhere), and while
    the mission is still running the freed place goes to the waiting list."""
    with transaction.atomic():
        mission_id = Application.objects.values_list("mission_id", flat=True).get(pk=application_id)
        mission = Mission.objects.select_for_update().get(pk=mission_id)
        application = Application.objects.select_for_update().get(pk=application_id)
        role = role_for(manager, mission.organisation) or ""
        target = Application.Status.DONE if happened else Application.Status.NO_SHOW
        set_status(application, target, role)
        recount(mission)
        if still_running(mission):
            promote(mission)
        return application


def still_running(mission: Mission) -> bool:
    """A place freed now is still worth offering: the mission's last day is not behind us."""
    last_day = mission.end_date or (None if mission.is_recurring else mission.start_date)
    return last_day is None or last_day >= timezone.localdate()


def cancel(
    application_id: int, volunteer, reason: str = "", cancel_reason: str = ""
) -> Application:
    """The volunteer withdraws; why (`cancel_reason`, one of Application.CancelReason) and
    their own words (`reason`) are kept and told to the managers."""
    if cancel_reason not in Application.CancelReason.values:
        cancel_reason = ""
    reason = reason.strip()[:1000]
    with transaction.atomic():
        application = Application.objects.get(pk=application_id, volunteer=volunteer)
        mission = Mission.objects.select_for_update().get(pk=application.mission_id)
        application = Application.objects.select_for_update().get(pk=application_id)
        set_status(
            application,
            Application.Status.CANCELLED,
            VOLUNTEER,
            reason_text=reason,
            cancel_reason=cancel_reason,
        )
        notify_team(
            mission,
            f"application-cancelled:{application.pk}",
            event="cancelled",
            applicant=volunteer.get_full_name(),
            cancel_reason=cancel_reason,
            reason=reason,
        )
        recount(mission)
        promote(mission)
    return application


def promote(mission: Mission) -> list[Application]:
    """Fill freed places from the waiting list, first come first served (mission locked)."""
    if mission.slots.exists():
        return promote_on_slots(mission)
    free = mission.places - mission.active_applications().count()
    if free <= 0:
        return []
    promoted = list(
        mission.applications.select_for_update()
        .filter(status=Application.Status.WAITLISTED)
        .order_by("created_at", "pk")[:free]
    )
    for application in promoted:
        set_status(application, Application.Status.PENDING, SYSTEM)
        notify(
            application.volunteer,
            mission,
            "application",
            f"application-promoted:{application.pk}",
            event="promoted",
        )
    if promoted:
        recount(mission)
    return promoted


def promote_on_slots(mission: Mission) -> list[Application]:
    """Per slot not yet ended, its freed places go to its waiting list, first come first
    served (mission locked). An application waiting on all its slots becomes pending with its
    first place; each place is emailed, naming its slot."""
    booked = booked_counts(mission)
    promoted = []
    for slot in mission.slots.filter(end__gt=timezone.now()):
        free = slot.places - booked.get(slot.pk, 0)
        if free <= 0:
            continue
        waiting = list(
            slot.bookings.filter(status=Booking.Status.WAITLISTED)
            .select_related("application__volunteer", "slot")
            .order_by("created_at", "pk")[:free]
        )
        for booking in waiting:
            booking.status = Booking.Status.BOOKED
            booking.save(update_fields=["status"])
            application = booking.application
            if application.status == Application.Status.WAITLISTED:
                set_status(application, Application.Status.PENDING, SYSTEM)
            key = f"application-promoted:{application.pk}:slot-{slot.pk}"
            notify_booking(booking, mission, key, "promoted")
            promoted.append(application)
    if promoted:
        recount(mission)
    return promoted


def remind(day) -> int:
    """The day before: accepted volunteers of a mission starting on `day`; with slots, those
    holding a place on a slot starting on `day`, once per slot."""
    whole = Q(mission__start_date=day) & ~Q(mission__slots__isnull=False)
    return _notify_accepted(day, "reminder", whole) + remind_slots(day)


def remind_slots(day) -> int:
    start = timezone.make_aware(datetime.combine(day, time.min))
    bookings = Booking.objects.filter(
        status=Booking.Status.BOOKED,
        application__status=Application.Status.ACCEPTED,
        slot__start__gte=start,
        slot__start__lt=start + timedelta(days=1),
    ).select_related("slot", "application__mission", "application__volunteer")
    count = 0
    for booking in bookings:
        application, volunteer = booking.application, booking.application.volunteer
        with transaction.atomic():
            notify(
                volunteer,
                application.mission,
                "application",
                f"application-reminder:{application.pk}:{day.isoformat()}:slot-{booking.slot_id}",
                event="reminder",
                slots=slot_lines([booking], getattr(volunteer, "language", "fr")),
            )
        count += 1
    return count


def follow_up(day) -> int:
    """The day after a mission's last day (its end date, or the start date of a one-day
    mission), "did it happen?" with a link to the page where the volunteer answers."""
    one_day = Q(mission__end_date__isnull=True, mission__is_recurring=False)
    last_day = Q(mission__end_date=day) | (one_day & Q(mission__start_date=day))
    return _notify_accepted(day, "followup", last_day, link=attendance_path)


def _notify_accepted(day, event: str, missions: Q, link=None) -> int:
    count = 0
    applications = Application.objects.filter(
        missions, status=Application.Status.ACCEPTED
    ).select_related("mission", "volunteer")
    for application in applications:
        extra = {"action_path": link(application)} if link else {}
        with transaction.atomic():
            notify(
                application.volunteer,
                application.mission,
                "application",
                f"application-{event}:{application.pk}:{day.isoformat()}",
                event=event,
                **extra,
            )
        count += 1
    return count


def attendance_path(application: Application) -> str:
    """The volunteer-space page for "did it happen?", in the volunteer's language."""
    return languages.reverse_in(
        application.volunteer.language, "accounts:attendance", [application.pk]
    )


# The volunteer's place was confirmed (the managers may already have marked it done).
ATTENDANCE_STATUSES = (Application.Status.ACCEPTED, Application.Status.DONE)


def attendance_open(application: Application) -> bool:
    """May the volunteer say whether it happened? Their own accepted (or done) application,
    once the mission has begun (one without a start date: at any time)."""
    start = application.mission.start_date
    return application.status in ATTENDANCE_STATUSES and (
        start is None or start <= timezone.localdate()
    )


def answer_attendance(application_id: int, volunteer, happened: bool, comment: str = ""):
    """Store the volunteer's "did it happen?" answer (they may change it); the association
    reads it on its applicants page. Another volunteer's application is DoesNotExist."""
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("mission")
            .get(pk=application_id, volunteer=volunteer)
        )
        if not attendance_open(application):
            raise PermissionDenied("Not an application whose mission has begun.")
        application.volunteer_attended = happened
        application.attendance_comment = comment.strip()[:1000]
        application.attendance_answered_at = timezone.now()
        application.save(
            update_fields=["volunteer_attended", "attendance_comment", "attendance_answered_at"]
        )
    return application


# --- Favourites -----------------------------------------------------------------------------


def add_favourite(volunteer, mission: Mission) -> Favourite:
    """Idempotent: a second save (or two at the same instant) keeps one row."""
    favourite, _created = Favourite.objects.get_or_create(volunteer=volunteer, mission=mission)
    return favourite


def remove_favourite(volunteer, mission_id: int) -> bool:
    return Favourite.objects.filter(volunteer=volunteer, mission_id=mission_id).delete()[0] > 0


def mission_site(mission: Mission):
    """The portal a mission's emails link to."""
    return mission.sites.order_by("pk").first() or mission.organisation.site


def about(mission: Mission) -> dict:
    """What every email about a mission may say of it."""
    return {
        "mission": mission.title,
        "organisation": mission.organisation.name,
        "start_date": mission.start_date.isoformat() if mission.start_date else "",
    }


def notify_booking(booking, mission: Mission, key: str, event: str) -> None:
    """The application email to a booking's volunteer about its slot (a place given, a time
    moved), the slot named in the volunteer's language."""
    volunteer = booking.application.volunteer
    language = getattr(volunteer, "language", "fr")
    slots = slot_lines([booking], language)
    notify(volunteer, mission, "application", key, event=event, slots=slots)


def notify(user, mission: Mission, template: str, key: str, **context) -> None:
    """An email about `mission` to one person (a volunteer)."""
    queue_email(
        to=user.email,
        template=template,
        idempotency_key=key,
        site=mission_site(mission),
        language=getattr(user, "language", "fr"),
        context={"first_name": user.first_name, **about(mission), **context},
    )


def notify_team(mission: Mission, key: str, **context) -> None:
    """An email about an application to `mission`, to each of its organisation's managers."""
    email_team(
        mission.organisation,
        "application",
        key,
        site=mission_site(mission),
        **about(mission),
        **context,
    )


def withdraw_volunteer(volunteer) -> int:
    """A volunteer leaves (account deleted): each open application is cancelled as if they
    had cancelled it (place freed, waiting list promoted, managers told), then what they wrote
    and their name in the managers' emails are erased. Returns how many were cancelled."""
    still_open = APPLICATION.sources(Application.Status.CANCELLED, role=VOLUNTEER)
    cancelled = list(
        Application.objects.filter(volunteer=volunteer, status__in=still_open).values_list(
            "pk", flat=True
        )
    )
    for application_id in cancelled:
        cancel(application_id, volunteer)
    everything = list(Application.objects.filter(volunteer=volunteer).values_list("pk", flat=True))
    Application.objects.filter(pk__in=everything).update(
        message="",
        reason_text="",
        volunteer_attended=None,
        attendance_comment="",
        attendance_answered_at=None,
    )
    Favourite.objects.filter(volunteer=volunteer).delete()
    forget_applicant(everything)
    return len(cancelled)


def forget_applicant(application_ids: list[int]) -> int:
    """Replace the applicant's name in the emails managers got about these applications, and
    erase the words they wrote when cancelling."""
    if not application_ids:
        return 0
    about = Q()
    for application_id in application_ids:
        for event in ("application-manager", "application-cancelled"):
            about |= Q(idempotency_key__startswith=f"{event}:{application_id}:")
    rows = list(OutboundEmail.objects.filter(about, context__has_key="applicant"))
    for row in rows:
        with translation.override(row.language):
            row.context = {**row.context, "applicant": _("A volunteer")}
            if "reason" in row.context:
                row.context["reason"] = ""
    OutboundEmail.objects.bulk_update(rows, ["context"])
    return len(rows)
