"""One place for each state rule: callers ask the workflow, and moderation emails every
manager once per decision (issue 15)."""

import pytest

from emails.models import OutboundEmail
from missions import services
from missions.models import Application, Mission
from missions.states import APPLICATION, MISSION
from organisations.admin_views import MissionQueue, OrganisationQueue, ReasonForm
from organisations.forms import DecisionForm
from organisations.models import Organisation
from organisations.services import move
from organisations.states import ORGANISATION
from portal.workflow import MANAGER, MODERATOR, SYSTEM, VOLUNTEER
from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(demo):
    submitted = Organisation.Status.SUBMITTED
    organisation = make.organisation(demo["localhost"], submitted, name="Banque alimentaire")
    managers = [make.manager(organisation, f"{name}@example.com") for name in ("alice", "bob")]
    return organisation, managers, make.moderator(demo["localhost"])


def moderation_emails(kind: str) -> list[tuple[str, str]]:
    rows = OutboundEmail.objects.filter(template="moderation", context__kind=kind)
    return sorted(rows.values_list("to_email", "context__decision"))


def test_every_manager_hears_of_each_decision_on_a_mission_even_after_a_resubmission(team):
    organisation, (alice, bob), moderator = team
    mission = Mission(title="Collecte", description="<p>Trier</p>", is_remote=True, places=3)
    mission = services.save_mission(mission, organisation, alice, submit=True)
    assert mission.status == Mission.Status.SUBMITTED

    services.move_mission(mission, Mission.Status.REFUSED, moderator, "Trop vague")
    assert moderation_emails("mission") == [
        ("alice@example.com", "refused"),
        ("bob@example.com", "refused"),
    ]
    # Corrected, resubmitted, refused again: a second refusal is news, not a duplicate.
    mission.description = "<p>Trier les denrées le samedi</p>"
    services.save_mission(mission, organisation, bob, changed=["description"], submit=True)
    services.move_mission(mission, Mission.Status.REFUSED, moderator, "Encore vague")
    services.save_mission(mission, organisation, bob, submit=True)
    services.move_mission(mission, Mission.Status.VALIDATED, moderator)
    assert moderation_emails("mission") == [
        ("alice@example.com", "refused"),
        ("alice@example.com", "refused"),
        ("alice@example.com", "validated"),
        ("bob@example.com", "refused"),
        ("bob@example.com", "refused"),
        ("bob@example.com", "validated"),
    ]
    reasons = OutboundEmail.objects.filter(to_email="bob@example.com", context__kind="mission")
    assert sorted(reasons.values_list("context__reason", flat=True)) == [
        "",
        "Encore vague",
        "Trop vague",
    ]


def test_organisation_decisions_reach_every_manager_through_the_same_helper(team):
    organisation, _managers, moderator = team
    move(organisation, Organisation.Status.REFUSED, moderator, "RNA introuvable")
    organisation.refresh_from_db()
    assert moderation_emails("organisation") == [
        ("alice@example.com", "refused"),
        ("bob@example.com", "refused"),
    ]
    keys = OutboundEmail.objects.filter(context__kind="organisation").values_list(
        "idempotency_key", flat=True
    )
    assert all(key.startswith(f"organisation-refused:{organisation.pk}:") for key in keys)


def test_a_manager_cannot_resubmit_a_validated_mission_only_an_edit_sends_it_back(team):
    organisation, (alice, _bob), moderator = team
    mission = services.save_mission(
        Mission(title="Appels", description="x", is_remote=True), organisation, alice, submit=True
    )
    services.move_mission(mission, Mission.Status.VALIDATED, moderator)
    # "Save and submit" with nothing changed: it stays public.
    mission = services.save_mission(mission, organisation, alice, submit=True)
    assert mission.status == Mission.Status.VALIDATED
    assert not MISSION.allowed(Mission.Status.VALIDATED, Mission.Status.SUBMITTED, MANAGER)
    assert MISSION.allowed(Mission.Status.VALIDATED, Mission.Status.SUBMITTED, SYSTEM)
    mission.title = "Appels aux aînés"
    mission = services.save_mission(mission, organisation, alice, changed=["title"])
    assert mission.status == Mission.Status.SUBMITTED


def test_forms_and_queues_offer_what_the_workflow_allows():
    # The applicants page: one action per status a manager may give an application.
    targets = [target for target, _label in DecisionForm.ACTIONS.values()]
    assert targets == APPLICATION.reachable(MANAGER)
    # What waits for a moderator is what they may both validate and refuse.
    assert OrganisationQueue.waiting() == [Organisation.Status.SUBMITTED]
    assert MissionQueue.waiting() == [Mission.Status.SUBMITTED]
    form = ReasonForm(
        {"decision": "refused", "reason": " "},
        decisions=MissionQueue.decisions,
        statuses=Mission.Status,
    )
    assert [value for value, _label in form.fields["decision"].choices] == [
        "validated",
        "refused",
    ]
    assert not form.is_valid() and "reason" in form.errors
    assert not ReasonForm(
        {"decision": "closed"}, decisions=MissionQueue.decisions, statuses=Mission.Status
    ).is_valid()
    # A volunteer may cancel what still holds or awaits a place.
    assert set(APPLICATION.sources(Application.Status.CANCELLED, role=VOLUNTEER)) == {
        "pending",
        "waitlisted",
        "accepted",
    }
    assert ORGANISATION.sources(Organisation.Status.SUBMITTED, role=MANAGER) == ["draft", "refused"]
    assert ORGANISATION.targets("submitted", MODERATOR) == ["validated", "refused"]


def test_pages_show_only_the_actions_the_workflow_allows(team, demo):
    organisation, (alice, _bob), moderator = team
    client = make.client_for(alice)
    dashboard = f"/fr/espace-association/{organisation.pk}/"
    submit = f"/espace-association/{organisation.pk}/soumettre/"
    # Submitted: the organisation waits for moderation, so there is nothing to submit.
    assert submit not in client.get(dashboard).content.decode()
    move(organisation, Organisation.Status.REFUSED, moderator, "RNA introuvable")
    page = client.get(dashboard).content.decode()
    assert submit in page and "RNA introuvable" in page

    # The volunteer's applications: "Cancel" on what may still be cancelled, nothing else.
    volunteer = make.volunteer()
    for status in (Application.Status.PENDING, Application.Status.REFUSED):
        Application.objects.create(
            mission=services.save_mission(
                Mission(title=f"M {status}", description="x", is_remote=True), organisation, alice
            ),
            volunteer=volunteer,
            status=status,
        )
    client.force_login(volunteer)
    page = client.get("/fr/espace/candidatures/").content.decode()
    assert page.count('name="application"') == 1
    # Each status wears its badge (Application.BADGES), not a test of literal statuses.
    assert "fr-badge--info" in page and "fr-badge--error" in page
    assert "fr-badge--success" not in page
