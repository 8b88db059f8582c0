"""Thread pages on both sides, and the association's saved answers: thin views.

Each page is scoped the way its side's other pages are: the volunteer's own applications
(another's is a 404), an organisation the user belongs to (organisations.views.my_mission),
and in both cases the portal the request came to: another portal's host serves no thread.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import ratelimits
from organisations.views import my_mission, my_organisation, private

from . import services
from .forms import MessageForm, SavedAnswerForm
from .models import SavedAnswer, Side


def thread_page(request, application, side, template, context, form=None):
    """Show the thread (marking the other side's messages read), or take a new message."""
    if request.method == "POST":
        form = MessageForm(request.POST)
        limited = ratelimits.check_message(request)
        if not ratelimits.refused(form, limited) and form.is_valid():
            try:
                services.post_message(application, request.user, side, form.cleaned_data["body"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your message is sent."))
                return redirect(f"{request.path}#last")
    elif form is None:
        form = MessageForm()
    now = timezone.now()
    services.mark_read(application, side, now)
    page = render(
        request,
        template,
        {
            **context,
            "application": application,
            "thread": services.thread(application),
            "side": side,
            "form": form,
            "read_now": now,
        },
        status=400 if request.method == "POST" else 200,
    )
    return ratelimits.answer(page, form)


@private
def volunteer_thread(request, pk):
    shown_here = services.applications_on(request.site).select_related("mission__organisation")
    application = get_object_or_404(shown_here, pk=pk, volunteer=request.user)
    return thread_page(
        request, application, Side.VOLUNTEER, "conversations/volunteer_thread.html", {}
    )


def here(request, organisation):
    """The organisation, when the request came to its own portal; else a 404."""
    if organisation.site_id != request.site.pk:
        raise Http404
    return organisation


@private
def association_thread(request, org_id, mission_id, pk):
    organisation, mission = my_mission(request, org_id, mission_id)
    here(request, organisation)
    application = get_object_or_404(mission.applications.select_related("volunteer"), pk=pk)
    answers = organisation.saved_answers.all()
    form = None
    chosen = request.GET.get("answer", "")
    if request.method == "GET" and chosen.isascii() and chosen.isdigit() and len(chosen) < 19:
        answer = answers.filter(pk=chosen).first()
        if answer is not None:  # "insert" a saved answer: the form starts with its text
            form = MessageForm(initial={"body": answer.body})
    return thread_page(
        request,
        application,
        Side.ASSOCIATION,
        "conversations/association_thread.html",
        {"organisation": organisation, "mission": mission, "answers": answers},
        form,
    )


# --- Saved answers --------------------------------------------------------------------------


@private
def saved_answers(request, org_id, pk=None):
    """The list, with a form to add one (or to change the one named by `pk`)."""
    organisation = here(request, my_organisation(request, org_id))
    answer = get_object_or_404(organisation.saved_answers, pk=pk) if pk else None
    form = SavedAnswerForm(request.POST or None, instance=answer)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_answer(
                organisation, form.cleaned_data["title"], form.cleaned_data["body"], answer
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved answer recorded."))
            return redirect("conversations:saved_answers", org_id=organisation.pk)
    return render(
        request,
        "conversations/saved_answers.html",
        {
            "organisation": organisation,
            "answers": organisation.saved_answers.all(),
            "answer": answer,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@private
@require_POST
def delete_saved_answer(request, org_id, pk):
    organisation = here(request, my_organisation(request, org_id))
    get_object_or_404(SavedAnswer, organisation=organisation, pk=pk).delete()
    messages.success(request, _("Saved answer deleted."))
    return redirect("conversations:saved_answers", org_id=organisation.pk)
