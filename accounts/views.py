"""Account views: thin, they parse input and call accounts.services."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from missions import services as mission_services
from missions.models import Application, Booking, Favourite, Mission
from missions.states import APPLICATION
from portal import languages
from portal.cache import public_cache
from portal.csrf import same_origin_or_token
from portal.redirects import next_from, safe_next
from portal.workflow import VOLUNTEER
from tenants.models import PortalSettings

from . import account_area, ratelimits, services, signup_stream, staff
from .forms import (
    DeleteAccountForm,
    EmailForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    SetPasswordForm,
    SignupForm,
)
from .landing import account_home, landing_url
from .space_forms import AttendanceForm, CancelForm
from .tokens import read_token

SIGNUP_ACCEPTED = {
    "status": "accepted",
    "message": "If this address can receive email, a message is on its way: follow its link.",
}


def json_error(status: int, error: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": error, "message": message, **extra}, status=status)


def rate_limited(limited) -> JsonResponse:
    error = json_error(
        429, "rate_limited", "Too many attempts. Try again later.", retry_after=limited.retry_after
    )
    return ratelimits.too_many(error, limited)


# --- API ------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["POST"])
def api_signup(request):
    """POST /api/v1/signup: 202 for a new or an existing address alike (no enumeration)."""
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        return json_error(400, "invalid_json", "The request body must be a JSON object.")
    if not isinstance(payload, dict):
        return json_error(400, "invalid_json", "The request body must be a JSON object.")
    language = languages.supported(payload.get("language"))
    form = SignupForm.from_json(payload)
    with translation.override(language):  # field errors in the page's language
        if not form.is_valid():
            return json_error(
                400,
                "invalid",
                "Some fields are invalid.",
                fields={name: [str(e) for e in errors] for name, errors in form.errors.items()},
            )
    try:
        signup_stream.accept(
            request,
            site=request.site,
            language=language,
            data=form.cleaned_data,
            next_url=safe_next(request, payload.get("next")),
        )
    except signup_stream.RateLimited as refused:
        return rate_limited(refused.limited)
    except services.SignupsClosed:
        return json_error(503, "signups_closed", "Signups are closed on this portal for now.")
    except signup_stream.Unavailable:
        return come_back_later(
            json_error(503, "unavailable", "Signups cannot be taken right now. Try again soon.")
        )
    return JsonResponse(SIGNUP_ACCEPTED, status=202)


def come_back_later(response):
    """Neither the signup stream nor the database answered: a 503 that says when to retry."""
    response["Retry-After"] = str(signup_stream.RETRY_AFTER_SECONDS)
    return response


@never_cache
def api_csrf(request):
    """A CSRF token for pages served from the CDN, which cannot carry one themselves."""
    return JsonResponse({"csrfToken": get_token(request)})


@never_cache
@require_GET
def api_me(request):
    """GET /api/v1/me: the header's account area for pages served from the CDN (account.js).
    204 when signed out; else the person's first name and links (account_area.menu), in the
    page's language (`?language=fr`)."""
    signed_in = request.user.is_authenticated
    account_area.hint(request, signed_in)
    if not signed_in:
        return HttpResponse(status=204)
    with translation.override(languages.supported(request.GET.get("language"))):
        return JsonResponse(account_area.menu(request.user))


def ping(request):
    """The benchmarks' reference: a bare view in the same process, through the same stack."""
    return HttpResponse("pong", content_type="text/plain")


# --- Signup page ----------------------------------------------------------------------------


@same_origin_or_token
@public_cache
def signup_page(request):
    """GET is cached by the CDN: no session, no CSRF token in the HTML. The script posts JSON
    with a token it fetches; without JavaScript the form posts here, and the browser's Origin
    header stands in for the token (portal/csrf.py)."""
    if request.method == "POST":
        return signup_submit(request)
    closed = not PortalSettings.cached_for_site(request.site).signups_open
    # `next` (checked against the host, the same for every visitor) rides along in the form,
    # then in the confirmation link: the new volunteer lands where they meant to go.
    context = {"form": SignupForm(), "closed": closed, "next": next_from(request)}
    return render(request, "accounts/signup.html", context)


def signup_submit(request):
    """The same signup without JavaScript: a same-origin form POST, or one with a token."""
    form = SignupForm(request.POST)
    next_url = next_from(request)
    if not form.is_valid():
        context = {"form": form, "next": next_url}
        return render(request, "accounts/signup.html", context, status=400)
    try:
        # The same door as the API: a spike hits both, and both owe the same answer.
        signup_stream.accept(
            request,
            site=request.site,
            language=languages.current(),
            data=form.cleaned_data,
            next_url=next_url,
        )
    except signup_stream.RateLimited as refused:
        context = {"form": form, "rate_limited": True, "next": next_url}
        page = render(request, "accounts/signup.html", context)
        return ratelimits.too_many(page, refused.limited)
    except services.SignupsClosed:
        context = {"form": form, "closed": True, "next": next_url}
        return render(request, "accounts/signup.html", context, status=503)
    except signup_stream.Unavailable:
        context = {"form": form, "unavailable": True, "next": next_url}
        page = render(request, "accounts/signup.html", context, status=503)
        return come_back_later(page)
    return render(request, "accounts/signup_done.html", status=202)


# --- Links from emails ----------------------------------------------------------------------


# Links whose only point is to sign in: refused to staff before they change anything.
SIGN_IN_PURPOSES = ("login", "confirm")


def link_view(request, token, purpose: str, max_age: int, action: str, act):
    """GET shows a button, POST acts: mail scanners that prefetch links change nothing.

    A link only works on the portal that sent it (see accounts.tokens).
    """
    user = read_token(token, purpose, max_age, request.site)
    if user is None:
        return render(request, "accounts/link_invalid.html", status=400)
    if purpose in SIGN_IN_PURPOSES and staff.is_staff_account(user):
        return render(request, "accounts/staff_use_password.html", status=403)
    if request.method != "POST":
        return render(request, "accounts/link_confirm.html", {"action": action})
    return act(user)


def sign_in(request, user, message=None):
    """Emailed links sign volunteers in; staff accounts are told to use password + code."""
    if staff.is_staff_account(user):
        return render(request, "accounts/staff_use_password.html", status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if message:
        messages.success(request, message)
    return redirect(landing_url(request))  # the link's ?next= if ours, else per account


@never_cache
def confirm(request, token):
    def act(user):
        services.confirm_email(user)
        return sign_in(request, user, _("Your address is confirmed. Welcome!"))

    max_age = settings.ACCOUNT_CONFIRMATION_MAX_AGE
    return link_view(request, token, "confirm", max_age, _("Confirm my address"), act)


@never_cache
def magic_link(request, token):
    def act(user):
        services.confirm_email(user)  # the link proved the address works
        return sign_in(request, user)

    max_age = settings.ACCOUNT_SIGNIN_LINK_MAX_AGE
    return link_view(request, token, "login", max_age, _("Sign in"), act)


@never_cache
def confirm_email_change(request, token):
    def act(user):
        if services.apply_email_change(user, request.site):
            return sign_in(request, user, _("Your new address is confirmed."))
        return render(request, "accounts/link_invalid.html", status=409)

    max_age = settings.ACCOUNT_CONFIRMATION_MAX_AGE
    return link_view(request, token, "change-email", max_age, _("Use this address"), act)


# --- Sign in / out --------------------------------------------------------------------------


class ThrottledLoginViewMixin:
    """Over the limit: the form with its error, answered 429 with Retry-After."""

    def form_invalid(self, form):
        return ratelimits.answer(super().form_invalid(form), form)


class PasswordLoginView(ThrottledLoginViewMixin, LoginView):
    """Signed in (or already signed in, as the header's "Sign in" link finds some without
    JavaScript): on to `next` if ours, else where accounts.landing sends this account."""

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_redirect_url(self):
        return next_from(self.request)

    def get_success_url(self):
        url = landing_url(self.request)
        # ?next= this very page, for someone signed in: Django would call that a loop (a 500).
        return url if url != self.request.path else account_home(self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "link_form": EmailForm()}


@never_cache
@require_POST
def request_signin_link(request):
    form = EmailForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"]
        limited, send = ratelimits.check_signin_link(request, email)
        if limited:
            page = render(request, "accounts/signin_link_sent.html")
            return ratelimits.too_many(page, limited)
        if send:
            signup_stream.send_signin_link(
                email=email,
                site=request.site,
                language=languages.current(),
                next_url=next_from(request),
            )
        return render(request, "accounts/signin_link_sent.html")
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(request), "link_form": form, "next": next_from(request)},
        status=400,
    )


@same_origin_or_token
@require_POST
def sign_out(request):
    """From the header of any page. A cached page has no CSRF token to send: a same-origin
    POST needs none (portal.csrf), as for signup and favourites."""
    logout(request)
    return redirect("/")


# --- Volunteer space ------------------------------------------------------------------------


@never_cache
@login_required
def space(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:space")
    else:
        form = ProfileForm(instance=user)
    return render(request, "accounts/space.html", {"form": form})


@never_cache
@login_required
def change_email(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if limited := ratelimits.check_user_email(request, email):
            ratelimits.refused(form, limited)
            page = render(request, "accounts/change_email.html", {"form": form})
            return ratelimits.answer(page, form)
        services.request_email_change(request.user, email, request.site, languages.current())
        messages.success(request, _("Follow the link sent to your new address to confirm it."))
        return redirect("accounts:space")
    return render(request, "accounts/change_email.html", {"form": form})


@never_cache
@login_required
def change_password(request):
    # Whoever holds this session must know the current password to replace it. An account
    # that never had one (signup by email link) sets its first password with the session only.
    form_class = PasswordChangeForm if request.user.has_usable_password() else SetPasswordForm
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)  # keep this session, end the others
        messages.success(request, _("Your password is saved."))
        return redirect("accounts:space")
    return render(request, "accounts/change_password.html", {"form": form})


@never_cache
@login_required
@require_POST
def sign_out_everywhere(request):
    services.sign_out_everywhere(request.user)
    logout(request)
    return redirect("accounts:login")


@never_cache
@login_required
def delete_account(request):
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "accounts/delete.html", {"form": form}, status=400)
        services.delete_account(request.user)
        logout(request)
        return render(request, "accounts/deleted.html")
    return render(request, "accounts/delete.html", {"form": form})


@never_cache
@login_required
def export(request):
    data = services.export_data(request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="mes-donnees.json"'
    return response


@never_cache
@login_required
def my_applications(request):
    """The volunteer's own applications (and only theirs), with cancellation (and why), and
    the "did it happen?" question once a mission has begun."""
    mine = Application.objects.filter(volunteer=request.user).select_related(
        "mission__organisation"
    )
    if request.method == "POST":
        application_id = request.POST.get("application", "")
        if not (application_id.isascii() and application_id.isdigit() and len(application_id) < 19):
            raise Http404  # "abc", "²" or a number no row can have: a 404, never a 500
        application = get_object_or_404(mine, pk=application_id)
        form = CancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a reason from the list (or none)."))
            return redirect("accounts:applications")
        try:
            mission_services.cancel(
                application.pk,
                request.user,
                form.cleaned_data["reason"],
                form.cleaned_data["cancel_reason"],
            )
            messages.success(request, _("Your application is cancelled."))
        except PermissionDenied:
            messages.error(request, _("This application can no longer be cancelled."))
        return redirect("accounts:applications")
    slots = Booking.objects.select_related("slot").order_by("slot__start")
    applications = list(mine.prefetch_related(Prefetch("bookings", slots)).order_by("-created_at"))
    for application in applications:
        application.can_answer = mission_services.attendance_open(application)
    return render(
        request,
        "accounts/applications.html",
        {
            "applications": applications,
            "cancellable": APPLICATION.sources(Application.Status.CANCELLED, role=VOLUNTEER),
            "cancel_reasons": Application.CancelReason.choices,
        },
    )


@never_cache
@login_required
def attendance(request, pk):
    """After the mission, "did it happen?" for one of the volunteer's own applications (the
    follow-up email links here). Another volunteer's application is a 404."""
    application = get_object_or_404(
        Application.objects.select_related("mission__organisation"),
        pk=pk,
        volunteer=request.user,
    )
    context = {"application": application}
    if not mission_services.attendance_open(application):
        return render(request, "accounts/attendance.html", {**context, "closed": True}, status=403)
    if request.method == "POST":
        form = AttendanceForm(request.POST)
        if form.is_valid():
            mission_services.answer_attendance(
                application.pk,
                request.user,
                form.cleaned_data["happened"],
                form.cleaned_data["comment"],
            )
            messages.success(request, _("Thank you, your answer is sent to the association."))
            return redirect("accounts:applications")
        return render(request, "accounts/attendance.html", {**context, "form": form}, status=400)
    answered = application.volunteer_attended
    initial = {"comment": application.attendance_comment}
    if answered is not None:
        initial["happened"] = "yes" if answered else "no"
    return render(
        request, "accounts/attendance.html", {**context, "form": AttendanceForm(initial=initial)}
    )


@never_cache
@login_required
def favourites(request):
    """The missions the volunteer saved; those no longer open on this portal say so."""
    saved = list(
        Favourite.objects.filter(volunteer=request.user)
        .select_related("mission__organisation")
        .order_by("-created_at")
    )
    open_ids = set(
        Mission.objects.public(request.site)
        .filter(pk__in=[favourite.mission_id for favourite in saved])
        .values_list("pk", flat=True)
    )
    for favourite in saved:
        favourite.is_open = favourite.mission_id in open_ids
    return render(request, "accounts/favourites.html", {"favourites": saved})


@never_cache
@login_required
@same_origin_or_token
def favourite(request, mission_id):
    """Save or remove one mission. The public mission page is cached and carries no CSRF
    token: its button posts here and the browser's Origin vouches (portal.csrf); a GET (the
    way back from the sign-in page) shows the button again, with a token."""
    saved = Favourite.objects.filter(volunteer=request.user, mission_id=mission_id).exists()
    open_here = Mission.objects.public(request.site).filter(pk=mission_id)
    if request.method != "POST":
        mission = get_object_or_404(
            Mission.objects.select_related("organisation")
            if saved
            else open_here.select_related("organisation"),
            pk=mission_id,
        )
        return render(request, "accounts/favourite.html", {"mission": mission, "saved": saved})
    action = request.POST.get("action") or ("remove" if saved else "add")
    if action == "remove":
        mission_services.remove_favourite(request.user, mission_id)
        messages.success(request, _("The mission is removed from your favourites."))
    elif action == "add":
        mission_services.add_favourite(request.user, get_object_or_404(open_here))
        messages.success(request, _("The mission is saved in your favourites."))
    else:
        raise Http404
    return redirect("accounts:favourites")
