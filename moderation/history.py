"""The history of an object's states, and moderators' private notes: both attached to any
object by content type, read newest first."""

from django.contrib.contenttypes.models import ContentType

from .models import Note, StateChange


def record(obj, from_status: str, to_status: str, actor=None, reason: str = "") -> StateChange:
    """One line of `obj`'s history. Called by the service that moves `obj`, inside its
    transaction and under its row lock, so the history is exactly the moves that committed."""
    return StateChange.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason or "",
    )


def _about(model, obj):
    return model.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    )


def history(obj) -> list[StateChange]:
    """Newest first, each change with its states' labels (`from_label`, `to_label`)."""
    labels = dict(type(obj).Status.choices)
    changes = list(_about(StateChange, obj).select_related("actor"))
    for change in changes:
        change.from_label = labels.get(change.from_status, change.from_status)
        change.to_label = labels.get(change.to_status, change.to_status)
    return changes


def notes(obj):
    return _about(Note, obj).select_related("author")


def add_note(obj, author, text: str) -> Note:
    """A private note; the caller has checked that `author` moderates `obj`."""
    return Note.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        author=author,
        text=text.strip(),
    )
