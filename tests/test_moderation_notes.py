"""Moderators' private notes, and the history of each object's states on its admin page."""

import pytest

from missions import services as mission_services
from missions.models import Mission
from moderation import history
from moderation.models import Note, StateChange
from organisations import services
from organisations.models import Organisation
from portal.workflow import TransitionNotAllowed
from tests import factories as make
from tests.factories import client_for

pytestmark = pytest.mark.django_db

SUBMITTED = Organisation.Status.SUBMITTED


def test_every_move_is_in_the_history_with_who_when_from_to_and_why(demo):
    organisation = make.organisation(demo["localhost"], Organisation.Status.DRAFT)
    manager = make.manager(organisation)
    moderator = make.moderator(demo["localhost"], first_name="Sacha")
    services.move(organisation, SUBMITTED, manager)
    services.move(organisation, Organisation.Status.REFUSED, moderator, "RNA inconnu")
    rows = list(history.history(organisation))
    assert [(r.from_status, r.to_status) for r in rows] == [
        ("submitted", "refused"),
        ("draft", "submitted"),
    ]
    assert rows[0].actor == moderator and rows[0].reason == "RNA inconnu"
    assert rows[1].actor == manager and rows[0].created_at >= rows[1].created_at
    assert rows[0].to_label == "Refusée"  # the status's label, in the active language
    # A mission: the manager's submission, the moderator's decision, the portal's closing.
    mission = make.mission(make.organisation(demo["localhost"]), Mission.Status.DRAFT)
    mission_services.move_mission(
        mission, Mission.Status.SUBMITTED, make.manager(mission.organisation)
    )
    mission_services.move_mission(mission, Mission.Status.VALIDATED, moderator)
    mission_services.move_mission(mission, Mission.Status.CLOSED)
    rows = list(history.history(mission))
    assert [r.to_status for r in rows] == ["closed", "validated", "submitted"]
    assert rows[0].actor is None  # the portal itself
    # A refused move leaves no line.
    with pytest.raises(TransitionNotAllowed):
        mission_services.move_mission(mission, Mission.Status.VALIDATED, moderator)
    assert StateChange.objects.filter(object_id=mission.pk, to_status="validated").count() == 1


def test_the_admin_page_shows_history_and_notes_to_moderators_only(demo):
    site = demo["localhost"]
    organisation = make.organisation(site, SUBMITTED, name="Les Jardins Partagés")
    manager = make.manager(organisation)
    moderator = make.moderator(site)
    client = client_for(moderator)
    inspect = f"/admin/organisation_queue/inspect/{organisation.pk}/"
    note = f"/admin/organisation_queue/note/{organisation.pk}/"
    assert (
        client.post(note, {"text": "  Appeler la présidente avant de valider  "}).status_code == 302
    )
    saved = Note.objects.get(object_id=organisation.pk)
    assert saved.author == moderator and saved.text == "Appeler la présidente avant de valider"
    assert client.post(note, {"text": ""}).status_code == 400
    assert client.post(note, {"text": "x" * 5001}).status_code == 400
    assert Note.objects.filter(object_id=organisation.pk).count() == 1
    client.post(
        f"/admin/organisation_queue/moderate/{organisation.pk}/",
        {"decision": "refused", "reason": "Statuts manquants"},
    )
    page = client.get(inspect).text
    assert "Appeler la présidente" in page and "Statuts manquants" in page
    moderate = client.get(f"/admin/mission_queue/moderate/{make.mission(organisation).pk}/")
    assert moderate.status_code == 200
    # Nobody else reads the notes: another portal's moderator, the organisation's manager
    # (no admin at all), the public page.
    other = client_for(make.moderator(demo["covid19.localhost"]))
    assert other.get(inspect, follow=True).status_code == 404
    assert "Appeler la présidente" not in client_for(manager).get(inspect, follow=True).text
    dashboard = client_for(manager).get(f"/fr/espace-association/{organisation.pk}/")
    assert "Appeler la présidente" not in dashboard.text
    # A note on a mission of the queue, the same way.
    mission = make.mission(organisation, Mission.Status.SUBMITTED)
    assert (
        client.post(
            f"/admin/mission_queue/note/{mission.pk}/", {"text": "Vérifier l'adresse"}
        ).status_code
        == 302
    )
    assert [n.text for n in history.notes(mission)] == ["Vérifier l'adresse"]
    assert not history.notes(organisation).filter(text="Vérifier l'adresse").exists()
