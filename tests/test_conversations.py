"""Messages between a volunteer and the association about an application: the thread on both
sides, batched email notices, unread counts, saved answers, limits, isolation and erasure."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.services import delete_account, export_data
from conversations import services
from conversations.models import MAX_LENGTH, Message, Notice, SavedAnswer, Side
from emails.models import OutboundEmail
from emails.sending import claim, render
from tests import factories as make
from tests.factories import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("french")]


@pytest.fixture
def mission(org):
    return make.mission(org, title="Maraude du soir")


@pytest.fixture
def volunteer():
    return make.volunteer(first_name="Camille", last_name="Martin", language="fr")


@pytest.fixture
def application(mission, volunteer):
    return make.application(mission, volunteer)


def volunteer_url(application):
    return f"/fr/espace/candidatures/{application.pk}/messages/"


def association_url(application):
    mission = application.mission
    return (
        f"/fr/espace-association/{mission.organisation_id}/missions/{mission.pk}"
        f"/candidatures/{application.pk}/messages/"
    )


def notices(application, side):
    return OutboundEmail.objects.filter(
        idempotency_key__startswith=f"message:{application.pk}:{side}:"
    ).order_by("pk")


# --- Domain ---------------------------------------------------------------------------------


def test_a_message_is_unread_for_the_other_side_until_it_opens_the_thread(
    application, volunteer, manager
):
    services.post_message(application, volunteer, Side.VOLUNTEER, "  Bonjour, à quelle heure ?  ")
    message = Message.objects.get(application=application)
    assert (message.body, message.side, message.author) == (
        "Bonjour, à quelle heure ?",
        Side.VOLUNTEER,
        volunteer,
    )
    assert services.unread_count(application, Side.ASSOCIATION) == 1
    assert services.unread_count(application, Side.VOLUNTEER) == 0
    assert services.unread_for_organisation(application.mission.organisation) == 1

    services.post_message(application, manager, Side.ASSOCIATION, "À 19 h, devant la gare.")
    assert services.unread_for_volunteer(volunteer) == 1
    assert services.mark_read(application, Side.ASSOCIATION) == 1
    assert services.unread_count(application, Side.ASSOCIATION) == 0
    assert services.unread_for_volunteer(volunteer) == 1  # the other side's count is its own
    assert services.mark_read(application, Side.VOLUNTEER) == 1
    assert services.unread_for_volunteer(volunteer) == 0


def test_only_the_applicant_and_the_organisations_team_may_write(demo, application, volunteer):
    other_team = make.manager(make.organisation(demo["localhost"]))
    stranger = make.volunteer()
    for user, side in [
        (stranger, Side.VOLUNTEER),
        (other_team, Side.ASSOCIATION),
        (volunteer, Side.ASSOCIATION),  # the applicant cannot speak for the association
    ]:
        with pytest.raises(PermissionDenied):
            services.post_message(application, user, side, "Bonjour")
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (MAX_LENGTH + 1)])
def test_an_empty_or_too_long_message_is_refused(application, volunteer, body):
    with pytest.raises(ValidationError):
        services.post_message(application, volunteer, Side.VOLUNTEER, body)
    assert not Message.objects.exists()


def test_several_messages_make_one_email_per_side_and_window(
    settings, org, application, volunteer, manager
):
    settings.MESSAGE_NOTICE_DELAY, settings.MESSAGE_NOTICE_WINDOW = 60, 900
    second_manager = make.manager(org, first_name="Alix")
    before = timezone.now()
    for text in ("Bonjour", "Une question", "Et une autre"):
        services.post_message(application, volunteer, Side.VOLUNTEER, text)
    # One notice, to each manager, held back for the delay; none to the volunteer.
    emails = list(notices(application, Side.ASSOCIATION))
    assert sorted(e.to_email for e in emails) == sorted([manager.email, second_manager.email])
    first_due = emails[0].next_attempt_at
    assert {e.next_attempt_at for e in emails} == {first_due}
    assert before + timedelta(seconds=60) <= first_due <= timezone.now() + timedelta(seconds=60)
    assert emails[0].template == "message" and emails[0].status == OutboundEmail.Status.PENDING
    assert emails[0].context["applicant"] == "Camille Martin"
    assert not notices(application, Side.VOLUNTEER).exists()

    # That email went out; a message five minutes later waits for the end of its window.
    Notice.objects.filter(application=application, side=Side.ASSOCIATION).update(
        due_at=timezone.now() - timedelta(minutes=5)
    )
    OutboundEmail.objects.filter(pk__in=[e.pk for e in emails]).update(
        status=OutboundEmail.Status.SENT
    )
    services.post_message(application, volunteer, Side.VOLUNTEER, "Vous êtes là ?")
    services.post_message(application, volunteer, Side.VOLUNTEER, "Merci")
    later = notices(application, Side.ASSOCIATION).exclude(pk__in=[e.pk for e in emails])
    assert later.count() == 2  # one per manager, for both messages
    due = later.first().next_attempt_at
    assert timedelta(minutes=9) < due - timezone.now() <= timedelta(minutes=10)

    # The association's answer is a notice on the volunteer's side, in their own window.
    services.post_message(application, manager, Side.ASSOCIATION, "Oui !")
    to_volunteer = notices(application, Side.VOLUNTEER).get()
    assert to_volunteer.to_email == volunteer.email
    assert to_volunteer.context["event"] == "to_volunteer"


def test_the_notice_email_names_the_thread_and_links_to_it(application, volunteer, manager):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Où se garer ?")
    services.post_message(application, manager, Side.ASSOCIATION, "Bienvenue")
    to_team = render(notices(application, Side.ASSOCIATION).get())
    assert to_team.subject == "Nouveau message de Camille Martin : Maraude du soir"
    assert association_url(application) in to_team.text
    assert "garer" not in to_team.text  # the email says who wrote, the portal says what
    to_volunteer = render(notices(application, Side.VOLUNTEER).get())
    assert to_volunteer.subject == "Nouveau message de Les Amis du Quartier : Maraude du soir"
    assert volunteer_url(application) in to_volunteer.text


def test_reading_before_the_email_goes_out_cancels_it(settings, application, volunteer, manager):
    settings.MESSAGE_NOTICE_DELAY = 60
    services.post_message(application, volunteer, Side.VOLUNTEER, "Bonjour")
    assert notices(application, Side.ASSOCIATION).exists()
    services.mark_read(application, Side.ASSOCIATION)
    assert not notices(application, Side.ASSOCIATION).exists()
    notice = Notice.objects.get(application=application, side=Side.ASSOCIATION)
    assert notice.due_at is None
    # A later message is told again, after the delay only (nothing was sent).
    services.post_message(application, volunteer, Side.VOLUNTEER, "Toujours là ?")
    email = notices(application, Side.ASSOCIATION).get()
    assert email.next_attempt_at - timezone.now() <= timedelta(seconds=60)


def test_the_outbox_holds_a_notice_back_until_it_is_due(application, volunteer, manager):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Bonjour")
    email = notices(application, Side.ASSOCIATION).get()

    def claimed():
        return {record.pk for group in claim([email.pk]) for record in group.records}

    assert email.pk not in claimed()
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert email.pk in claimed()
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENDING


@pytest.mark.django_db(transaction=True)
def test_two_messages_at_the_same_instant_queue_one_email(demo):
    org = make.organisation(demo["localhost"])
    manager = make.manager(org)
    application = make.application(make.mission(org))
    barrier = threading.Barrier(2)
    errors = []

    def post(text):
        try:
            barrier.wait()
            services.post_message(application, application.volunteer, Side.VOLUNTEER, text)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(text,)) for text in ("Un", "Deux")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Message.objects.filter(application=application).count() == 2
    assert list(notices(application, Side.ASSOCIATION).values_list("to_email", flat=True)) == [
        manager.email
    ]


# --- Pages ----------------------------------------------------------------------------------


def test_the_volunteer_writes_from_the_application_page_and_reads_the_answer(
    application, volunteer, manager
):
    client = client_for(volunteer)
    listing = client.get("/fr/espace/candidatures/")
    assert volunteer_url(application) in listing.content.decode()
    page = client.get(volunteer_url(application))
    assert page.status_code == 200
    assert "Aucun message pour l’instant." in page.content.decode()
    sent = client.post(volunteer_url(application), {"body": "Puis-je venir avec un ami ?"})
    assert sent.status_code == 302 and sent["Location"].endswith("messages/#last")
    assert Message.objects.get().side == Side.VOLUNTEER

    services.post_message(application, manager, Side.ASSOCIATION, "Bien sûr !")
    listing = client.get("/fr/espace/candidatures/").content.decode()
    assert 'data-unread="1"' in listing  # the space's navigation, and the application's card
    assert "1 message non lu" in listing
    thread = client.get(volunteer_url(application)).content.decode()
    assert "Bien sûr !" in thread and "Nouveau" in thread
    assert "data-unread" not in client.get("/fr/espace/candidatures/").content.decode()


def test_the_association_reads_and_answers_from_its_applicants_page(
    org, application, volunteer, manager
):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Bonjour")
    client = client_for(manager)
    dashboard = client.get(f"/fr/espace-association/{org.pk}/").content.decode()
    assert 'data-unread="1"' in dashboard
    applicants = client.get(
        f"/fr/espace-association/{org.pk}/missions/{application.mission_id}/candidatures/"
    ).content.decode()
    assert association_url(application) in applicants and 'data-unread="1"' in applicants
    page = client.get(association_url(application))
    assert page.status_code == 200 and "Bonjour" in page.content.decode()
    assert services.unread_for_organisation(org) == 0
    assert 'data-unread="1"' not in client.get(f"/fr/espace-association/{org.pk}/").content.decode()
    assert client.post(association_url(application), {"body": "Bienvenue"}).status_code == 302
    assert services.unread_for_volunteer(volunteer) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [("   ", "Écrivez un message."), ("x" * (MAX_LENGTH + 1), "5000 caractères au plus")],
)
def test_bad_input_is_a_form_error(application, volunteer, body, error):
    page = client_for(volunteer).post(volunteer_url(application), {"body": body})
    assert page.status_code == 400
    assert error in page.content.decode()
    assert not Message.objects.exists()


@given(body=st.text(st.characters(codec="utf-8"), max_size=60), title=st.text(max_size=120))
@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_whatever_is_posted_the_answer_is_never_a_5xx(
    settings, org, manager, application, body, title
):
    settings.MESSAGE_RATE_PER_USER_MINUTE = settings.MESSAGE_RATE_PER_USER_HOUR = "10000/m"
    volunteer_client = client_for(application.volunteer)
    answered = volunteer_client.post(volunteer_url(application), {"body": body})
    assert answered.status_code in (302, 400)
    saved = client_for(manager).post(
        f"/fr/espace-association/{org.pk}/reponses-types/", {"title": title, "body": body}
    )
    assert saved.status_code in (302, 400)
    odd = client_for(manager).get(association_url(application), {"answer": title})
    assert odd.status_code == 200


def test_too_many_messages_get_a_429_with_a_clear_error(settings, application, volunteer):
    settings.MESSAGE_RATE_PER_USER_MINUTE = "2/m"
    client = client_for(volunteer)
    for text in ("Un", "Deux"):
        assert client.post(volunteer_url(application), {"body": text}).status_code == 302
    refused = client.post(volunteer_url(application), {"body": "Trois"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Trop de tentatives" in refused.content.decode()
    assert Message.objects.count() == 2


# --- Isolation ------------------------------------------------------------------------------


def test_another_volunteer_never_sees_the_thread(application, volunteer):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Mon secret")
    intruder = client_for(make.volunteer())
    assert intruder.get(volunteer_url(application)).status_code == 404
    assert intruder.post(volunteer_url(application), {"body": "Coucou"}).status_code == 404
    assert Message.objects.count() == 1


def test_another_association_never_sees_the_thread(demo, org, application, volunteer):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Mon secret")
    other = make.organisation(demo["localhost"])
    other_manager = make.manager(other)
    client = client_for(other_manager)
    # Its own organisation's id with this mission, or this organisation's id: 404 both.
    mission = application.mission
    own_org_url = (
        f"/fr/espace-association/{other.pk}/missions/{mission.pk}"
        f"/candidatures/{application.pk}/messages/"
    )
    for url in (association_url(application), own_org_url):
        assert client.get(url).status_code == 404
        assert client.post(url, {"body": "Coucou"}).status_code == 404
    # An application to another mission of the same organisation is not under this mission.
    elsewhere = make.application(make.mission(org))
    crossed = (
        f"/fr/espace-association/{org.pk}/missions/{mission.pk}"
        f"/candidatures/{elsewhere.pk}/messages/"
    )
    assert client_for(make.manager(org)).get(crossed).status_code == 404
    assert "Mon secret" not in client.get(f"/fr/espace-association/{other.pk}/").content.decode()
    assert Message.objects.count() == 1


def test_another_portals_host_serves_no_thread(application, volunteer, manager):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Bonjour")
    other_host = {"HTTP_HOST": "covid19.localhost"}
    assert client_for(volunteer).get(volunteer_url(application), **other_host).status_code == 404
    assert client_for(manager).get(association_url(application), **other_host).status_code == 404
    listing = client_for(volunteer).get("/fr/espace/candidatures/", **other_host)
    assert volunteer_url(application) not in listing.content.decode()  # no link to a 404
    answers = f"/fr/espace-association/{application.mission.organisation_id}/reponses-types/"
    assert client_for(manager).get(answers, **other_host).status_code == 404
    assert services.unread_count(application, Side.ASSOCIATION) == 1  # nothing was read


# --- Saved answers --------------------------------------------------------------------------


def test_managers_keep_saved_answers_and_insert_one_into_a_message(org, application, manager):
    client = client_for(manager)
    url = f"/fr/espace-association/{org.pk}/reponses-types/"
    assert client.get(url).status_code == 200
    made = client.post(url, {"title": "Horaires", "body": "Nous commençons à 19 h."})
    assert made.status_code == 302
    answer = SavedAnswer.objects.get(organisation=org)
    assert client.post(f"{url}{answer.pk}/", {"title": "Horaires", "body": "À 18 h 30."})
    answer.refresh_from_db()
    assert answer.body == "À 18 h 30."
    page = client.get(f"{association_url(application)}?answer={answer.pk}")
    assert page.status_code == 200, page.content.decode()[-3000:]
    page = page.content.decode()
    assert "Horaires" in page and "À 18 h 30.</textarea>" in page
    # Bad input is a form error; another organisation's answer is not offered.
    assert client.post(url, {"title": "", "body": "x"}).status_code == 400
    other_answer = SavedAnswer.objects.create(
        organisation=make.organisation(org.site), title="Autre", body="Ailleurs"
    )
    assert (
        "Ailleurs"
        not in client.get(
            f"{association_url(application)}?answer={other_answer.pk}"
        ).content.decode()
    )
    assert client.post(f"{url}{other_answer.pk}/supprimer/").status_code == 404
    assert client.post(f"{url}{answer.pk}/supprimer/").status_code == 302
    assert not SavedAnswer.objects.filter(organisation=org).exists()


def test_another_team_cannot_open_the_saved_answers(demo, org, manager):
    answer = services.save_answer(org, "Horaires", "19 h")
    outsider = client_for(make.manager(make.organisation(demo["localhost"])))
    url = f"/fr/espace-association/{org.pk}/reponses-types/"
    assert outsider.get(url).status_code == 404
    assert outsider.post(f"{url}{answer.pk}/", {"title": "X", "body": "Y"}).status_code == 404
    assert outsider.post(f"{url}{answer.pk}/supprimer/").status_code == 404
    answer.refresh_from_db()
    assert answer.body == "19 h"


def test_an_organisation_keeps_a_bounded_number_of_saved_answers(org):
    for n in range(services.MAX_SAVED_ANSWERS):
        services.save_answer(org, f"Réponse {n}", "Texte")
    with pytest.raises(ValidationError):
        services.save_answer(org, "Une de trop", "Texte")


# --- Erasure --------------------------------------------------------------------------------


def test_the_thread_goes_with_the_volunteers_account(application, volunteer, manager):
    services.post_message(application, volunteer, Side.VOLUNTEER, "Mon numéro : 06 00 00 00 00")
    services.post_message(application, manager, Side.ASSOCIATION, "Merci Camille")
    # One notice already sent to the team (kept for the retention period), one still waiting.
    sent = notices(application, Side.ASSOCIATION).get()
    sent.status = OutboundEmail.Status.SENT
    sent.save()
    assert export_data(volunteer)["messages"][0]["message"] == "Mon numéro : 06 00 00 00 00"

    delete_account(volunteer)
    assert not Message.objects.filter(application=application).exists()
    assert not Notice.objects.filter(application=application).exists()
    assert not notices(application, Side.VOLUNTEER).exists()  # not sent yet: gone
    sent.refresh_from_db()
    assert sent.context["applicant"] == "Un bénévole"
    # The association's page says the conversation is closed; nothing is sent to the void.
    closed = client_for(manager).post(association_url(application), {"body": "Êtes-vous là ?"})
    assert closed.status_code == 400
    assert "Ce bénévole a quitté le portail" in closed.content.decode()
    assert not Message.objects.filter(application=application).exists()
