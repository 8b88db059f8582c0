"""What happens in a thread: posting, reading, counting, telling the other side by email.

Views call these with the side the page speaks for; who may speak for a side is checked
here once (`speaks_for`), so a view that forgot to scope its query still cannot post as
someone else.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from emails import dispatch
from emails.models import OutboundEmail
from emails.outbox import queue_email
from missions import services as mission_services
from missions.models import Application
from organisations.models import Membership, Organisation
from organisations.services import email_team
from portal import languages

from .models import MAX_LENGTH, Message, Notice, SavedAnswer, Side

# Saved answers an organisation may keep: a few frequent answers, not a library.
MAX_SAVED_ANSWERS = 30


def clean_body(body: str) -> str:
    """The text as stored; empty or too long is refused with the reason."""
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise ValidationError(_("Write a message."), code="empty")
    if len(body) > MAX_LENGTH:
        raise ValidationError(
            _("A message is at most %(max)d characters.") % {"max": MAX_LENGTH}, code="too_long"
        )
    return body


def speaks_for(user, application: Application) -> set[Side]:
    """The sides `user` may write and read for: the applicant's, their organisation's team's."""
    sides = set()
    if not user.is_authenticated or not user.is_active:
        return sides
    if application.volunteer_id == user.pk:
        sides.add(Side.VOLUNTEER)
    organisation_id = application.mission.organisation_id
    if Membership.objects.filter(organisation_id=organisation_id, user=user).exists():
        sides.add(Side.ASSOCIATION)
    return sides


def applications_on(site) -> QuerySet:
    """Applications to missions shown on `site` (or its organisations'): a portal serves the
    threads of these only."""
    return Application.objects.filter(
        Q(mission__sites=site) | Q(mission__organisation__site=site)
    ).distinct()


def thread(application: Application) -> QuerySet:
    return application.messages.select_related("author")


def post_message(application: Application, author, side: Side, body: str) -> Message:
    """Add a message to the thread and tell the other side (batched, see `schedule_notice`)."""
    side = Side(side)
    body = clean_body(body)
    if side not in speaks_for(author, application):
        raise PermissionDenied("Not a participant of this thread.")
    if not application.volunteer.is_active:  # the account was deleted: nobody to write to
        raise ValidationError(_("This volunteer has left the portal: the conversation is closed."))
    with transaction.atomic():
        message = Message.objects.create(
            application=application, author=author, side=side, body=body
        )
        schedule_notice(application, side.other, message.created_at)
    return message


def notice_delay() -> timedelta:
    return timedelta(seconds=settings.MESSAGE_NOTICE_DELAY)


def notice_window() -> timedelta:
    return timedelta(seconds=settings.MESSAGE_NOTICE_WINDOW)


def schedule_notice(application: Application, side: Side, now: datetime) -> Notice:
    """Make sure an email will tell `side` about a message written at `now`.

    Under the notice row's lock: an email still waiting to go out covers this message too;
    otherwise the next one goes after MESSAGE_NOTICE_DELAY (a reply read meanwhile cancels
    it, see `mark_read`) and never less than MESSAGE_NOTICE_WINDOW after the previous one.
    Two messages at the same instant queue one email."""
    notice, _created = Notice.objects.get_or_create(application=application, side=side)
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.due_at is not None and notice.due_at > now:
        return notice
    due = now + notice_delay()
    if notice.due_at is not None:
        due = max(due, notice.due_at + notice_window())
    notice.previous_due_at, notice.due_at = notice.due_at, due
    notice.sequence += 1
    notice.save(update_fields=["previous_due_at", "due_at", "sequence"])
    key = notice_key(application, side, notice.sequence)
    mission = application.mission
    context = {**mission_services.about(mission), "event": f"to_{side.value}"}
    if side == Side.VOLUNTEER:
        volunteer = application.volunteer
        language = languages.supported(volunteer.language)
        path = languages.reverse_in(language, "conversations:volunteer_thread", [application.pk])
        queue_email(
            to=volunteer.email,
            template="message",
            idempotency_key=key,
            site=mission_services.mission_site(mission),
            language=language,
            context={"first_name": volunteer.first_name, "action_path": path, **context},
            not_before=due,
        )
    else:
        path = languages.reverse_in(
            settings.LANGUAGE_CODE,
            "conversations:association_thread",
            [mission.organisation_id, mission.pk, application.pk],
        )
        email_team(
            mission.organisation,
            "message",
            key,
            site=mission_services.mission_site(mission),
            not_before=due,
            applicant=application.volunteer.get_full_name(),
            action_path=path,
            **context,
        )
    transaction.on_commit(lambda: send_when_due(key, due), robust=True)
    return notice


def notice_key(application: Application, side: Side, sequence: int) -> str:
    """`message:<application>:<side>:<n>`; the team's emails add `:<manager>` (email_team)."""
    return f"message:{application.pk}:{side}:{sequence}"


def notice_emails(key: str) -> Q:
    """The outbox rows of one notice: the volunteer's, or one per manager (`<key>:<user>`)."""
    return Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}:")


def waiting(key: str, due: datetime) -> QuerySet:
    """A notice's emails no worker has claimed, found through the outbox's due index."""
    return OutboundEmail.objects.filter(
        notice_emails(key), status=OutboundEmail.Status.PENDING, next_attempt_at=due
    )


def notices_about(application_ids) -> Q:
    """Every notice email ever queued about these applications' threads."""
    keys = Q()
    for application_id in application_ids:
        keys |= Q(idempotency_key__startswith=f"message:{application_id}:")
    return keys


def send_when_due(key: str, due: datetime) -> None:
    """A worker sends the email when it is due (the outbox sweeper would too, a little later)."""
    ids = list(waiting(key, due).values_list("pk", flat=True))
    if ids:
        countdown = max((due - timezone.now()).total_seconds(), 0) + 1
        dispatch.enqueue(ids, countdown=countdown)


def mark_read(application: Application, side: Side, now: datetime | None = None) -> int:
    """`side` opened the thread: the other side's messages are read, and an email about them
    still waiting to go out is cancelled. Returns how many messages were new to `side`.

    The notice row is locked before reading, so a message posted meanwhile either is marked
    read here or schedules its own email after this commits."""
    side = Side(side)
    now = now or timezone.now()
    if not unread_messages(side, application=application).exists():
        return 0  # nothing to mark, nothing waiting to cancel: no lock taken
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(application=application, side=side)
        notice = notice.first()
        read = unread_messages(side, application=application).update(read_at=now)
        if notice is not None and notice.due_at is not None and notice.due_at > now:
            waiting(notice_key(application, side, notice.sequence), notice.due_at).delete()
            notice.due_at = notice.previous_due_at
            notice.save(update_fields=["due_at"])
    return read


# --- Unread counts --------------------------------------------------------------------------


def unread(side: Side) -> Q:
    """Messages `side` has not read yet: those the other side wrote, unread."""
    return Q(read_at__isnull=True) & ~Q(side=side)


def unread_messages(side: Side, **scope) -> QuerySet:
    """What `side` has not read, within `scope` (lookups on Message): one application, a
    volunteer's applications, an organisation's missions."""
    return Message.objects.filter(unread(side), **scope)


def unread_count(application: Application, side: Side) -> int:
    return unread_messages(side, application=application).count()


def unread_for_volunteer(user) -> int:
    """Unread messages across the volunteer's applications (their space's navigation)."""
    if not user.is_authenticated:
        return 0
    return unread_messages(Side.VOLUNTEER, application__volunteer=user).count()


def unread_for_organisation(organisation: Organisation) -> int:
    """Unread volunteers' messages across the organisation's missions (its dashboard)."""
    scope = {"application__mission__organisation": organisation}
    return unread_messages(Side.ASSOCIATION, **scope).count()


# --- Saved answers --------------------------------------------------------------------------


def save_answer(organisation: Organisation, title: str, body: str, answer=None) -> SavedAnswer:
    """Create (or change `answer`); the organisation keeps at most MAX_SAVED_ANSWERS."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the answer a title.")})
    try:
        body = clean_body(body)
    except ValidationError as error:
        raise ValidationError({"body": error.messages}) from error
    with transaction.atomic():
        # The organisation's row serialises two creations racing for the last slot.
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        if answer is None:
            if organisation.saved_answers.count() >= MAX_SAVED_ANSWERS:
                raise ValidationError(
                    _("An association keeps at most %(max)d saved answers.")
                    % {"max": MAX_SAVED_ANSWERS}
                )
            answer = SavedAnswer(organisation=organisation)
        answer.title, answer.body = title[:100], body
        answer.save()
    return answer


# --- Erasure --------------------------------------------------------------------------------


def erase_threads(volunteer) -> int:
    """The volunteer's account goes: their threads go whole (both sides' messages, since the
    association's replies quote and address them), with the emails not sent yet about them;
    the name in those already sent to managers is replaced. Returns how many messages went."""
    application_ids = list(
        Application.objects.filter(volunteer=volunteer).values_list("pk", flat=True)
    )
    if not application_ids:
        return 0
    with transaction.atomic():
        erased = Message.objects.filter(application_id__in=application_ids).delete()[0]
        Notice.objects.filter(application_id__in=application_ids).delete()
        OutboundEmail.objects.filter(
            notices_about(application_ids), status=OutboundEmail.Status.PENDING
        ).delete()
        rows = list(
            OutboundEmail.objects.filter(
                notices_about(application_ids), context__has_key="applicant"
            )
        )
        for row in rows:
            with translation.override(row.language):
                row.context = {**row.context, "applicant": _("A volunteer")}
        OutboundEmail.objects.bulk_update(rows, ["context"])
    return erased


def export_threads(volunteer) -> list[dict]:
    """The volunteer's threads for their data export: who wrote what, when."""
    return [
        {
            "mission": message.application.mission.title,
            "from": "you" if message.side == Side.VOLUNTEER else "association",
            "message": message.body,
            "sent_at": message.created_at.isoformat(),
        }
        for message in Message.objects.filter(application__volunteer=volunteer)
        .select_related("application__mission")
        .order_by("application_id", "created_at", "pk")
    ]


def unread_by(messages: QuerySet, key: str) -> dict[int, int]:
    """{key: unread count} in one GROUP BY, for a page that lists applications or missions."""
    return dict(messages.order_by().values_list(key).annotate(n=Count("pk")))


def volunteer_unread_by_application(user) -> dict[int, int]:
    return unread_by(unread_messages(Side.VOLUNTEER, application__volunteer=user), "application_id")


def association_unread_by_application(mission) -> dict[int, int]:
    return unread_by(
        unread_messages(Side.ASSOCIATION, application__mission=mission), "application_id"
    )


def association_unread_by_mission(organisation) -> dict[int, int]:
    scope = {"application__mission__organisation": organisation}
    return unread_by(unread_messages(Side.ASSOCIATION, **scope), "application__mission_id")
