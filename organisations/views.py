"""The associations' dashboard: thin views over organisations.services and missions.services.

Every URL is scoped to an organisation the signed-in user belongs to: another one is a 404
(never a 403 that would confirm it exists). Pages are `private, no-store`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import ratelimits
from missions import services as mission_services
from missions.models import Application, Booking, Mission
from portal.workflow import MANAGER
from tenants.models import PortalSettings

from . import exports, services
from .forms import (
    ApplicantFilterForm,
    DecisionForm,
    InvitationForm,
    MissionForm,
    OrganisationForm,
    SlotFormSet,
)
from .models import Organisation
from .states import ORGANISATION

# The application counts each mission row of the dashboard shows.
DASHBOARD_COUNTS = (
    Application.Status.PENDING,
    Application.Status.WAITLISTED,
    Application.Status.ACCEPTED,
)


def my_organisation(request, org_id) -> Organisation:
    return get_object_or_404(Organisation.objects.filter(memberships__user=request.user), pk=org_id)


def my_mission(request, org_id, mission_id) -> tuple[Organisation, Mission]:
    organisation = my_organisation(request, org_id)
    return organisation, get_object_or_404(organisation.missions, pk=mission_id)


def private(view):
    return never_cache(login_required(view))


def heavy_views_off(request) -> bool:
    """In degraded mode (PortalSettings) the dashboards' heavy views (exports, the
    application counts) are off: the portal's load goes to volunteers' applications."""
    return PortalSettings.cached_for_site(request.site).degraded_mode


@private
def home(request):
    organisations = Organisation.objects.filter(memberships__user=request.user)
    form = OrganisationForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and not ratelimits.refused(form, ratelimits.check_organisation_creation(request))
    ):
        organisation = services.create(
            site=request.site,
            creator=request.user,
            **{f: form.cleaned_data[f] for f in form.Meta.fields},
        )
        return redirect("organisations:dashboard", org_id=organisation.pk)
    return render(
        request, "organisations/home.html", {"organisations": organisations, "form": form}
    )


@private
def dashboard(request, org_id):
    organisation = my_organisation(request, org_id)
    missions = organisation.missions.order_by("-created_at")
    degraded = heavy_views_off(request)
    counters = {}
    if not degraded:
        missions = missions.annotate(
            **{
                status.value: Count("applications", filter=Q(applications__status=status))
                for status in DASHBOARD_COUNTS
            }
        )
        counters = dict(
            Application.objects.filter(mission__organisation=organisation)
            .values_list("status")
            .annotate(n=Count("pk"))
        )
    return render(
        request,
        "organisations/dashboard.html",
        {
            "organisation": organisation,
            "missions": missions,
            "counters": counters,
            "degraded": degraded,
            "can_submit": ORGANISATION.allowed(
                organisation.status, Organisation.Status.SUBMITTED, MANAGER
            ),
        },
    )


@private
@require_POST
def submit_organisation(request, org_id):
    organisation = my_organisation(request, org_id)
    services.move(organisation, Organisation.Status.SUBMITTED, request.user)
    messages.success(request, _("Submitted for moderation."))
    return redirect("organisations:dashboard", org_id=org_id)


@private
def edit_mission(request, org_id, mission_id=None):
    organisation = my_organisation(request, org_id)
    mission = None
    if mission_id is not None:
        mission = get_object_or_404(organisation.missions, pk=mission_id)
    initial = {} if mission else {"sites": [organisation.site]}
    form = MissionForm(
        request.POST or None, instance=mission, initial=initial, organisation=organisation
    )
    # A POST without the slots' rows (an older page, a script) leaves the slots alone.
    slots_posted = "slots-TOTAL_FORMS" in request.POST
    slot_forms = SlotFormSet(
        request.POST if slots_posted else None, instance=mission or Mission(), prefix="slots"
    )
    if request.method == "POST" and form.is_valid() and (not slots_posted or slot_forms.is_valid()):
        was_validated = mission is not None and mission.status == Mission.Status.VALIDATED
        try:
            saved = mission_services.save_mission(
                form.save(commit=False),
                organisation,
                request.user,
                changed=form.changed_data,
                sites=form.cleaned_data.get("sites"),
                submit=bool(request.POST.get("submit")),
                slots=slot_changes(slot_forms) if slots_posted else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Mission saved."))
            if was_validated and saved.status == Mission.Status.SUBMITTED:
                messages.info(
                    request, _("Your changes go back to moderation before they are public.")
                )
            return redirect("organisations:dashboard", org_id=org_id)
    return render(
        request,
        "organisations/mission_form.html",
        {"organisation": organisation, "mission": mission, "form": form, "slots": slot_forms},
        status=400 if request.method == "POST" else 200,
    )


def slot_changes(formset) -> list:
    """The slot rows a manager filled, changed or ticked for removal (empty rows skipped)."""
    changes = []
    for slot_form in formset.forms:
        existing = slot_form.instance if slot_form.instance.pk else None
        if formset.can_delete and formset._should_delete_form(slot_form):
            changes.append(mission_services.SlotChange(existing, delete=True))
        elif existing is not None or slot_form.has_changed():
            data = slot_form.cleaned_data
            changes.append(
                mission_services.SlotChange(existing, data["start"], data["end"], data["places"])
            )
    return changes


@private
@require_POST
def duplicate_mission(request, org_id, mission_id):
    """A draft copy of the mission, opened for editing (dates to set, then submit)."""
    organisation, mission = my_mission(request, org_id, mission_id)
    copy = mission_services.duplicate_mission(mission, organisation, request.user)
    messages.success(request, _("Mission copied as a draft: check it, set its dates, submit it."))
    return redirect("organisations:edit_mission", org_id=org_id, mission_id=copy.pk)


def chosen_slot(mission, request):
    """The slot the applicants page is filtered on: one of this mission's, else none."""
    slot_id = request.GET.get("slot", "")
    return mission.slots.filter(pk=slot_id).first() if slot_id.isdigit() else None


def applicants_queryset(mission, request):
    applications = (
        mission.applications.select_related("volunteer")
        .prefetch_related(
            Prefetch("bookings", Booking.objects.select_related("slot").order_by("slot__start"))
        )
        .order_by("created_at")
    )
    slot = chosen_slot(mission, request)
    if slot is not None:
        applications = applications.filter(bookings__slot=slot)
    status = request.GET.get("status", "")
    if status in Application.Status.values:
        applications = applications.filter(status=status)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        applications = applications.filter(
            Q(volunteer__first_name__icontains=query)
            | Q(volunteer__last_name__icontains=query)
            | Q(volunteer__email__icontains=query)
        )
    return applications


@private
def applicants(request, org_id, mission_id):
    organisation, mission = my_mission(request, org_id, mission_id)
    if request.method == "POST":
        form = DecisionForm(request.POST, mission=mission)
        if not form.is_valid():
            messages.error(request, _("Choose applications and an action."))
        else:
            done = 0
            for application in form.cleaned_data["applications"]:
                try:
                    mission_services.act(
                        application.pk,
                        request.user,
                        form.cleaned_data["target"],
                        form.cleaned_data["reason"],
                        form.cleaned_data["text"],
                    )
                    done += 1
                except PermissionDenied:
                    pass  # not in a state that allows it: skipped
            messages.success(request, _("%(n)d applications updated.") % {"n": done})
        return redirect(request.get_full_path())
    return render(
        request,
        "organisations/applicants.html",
        {
            "organisation": organisation,
            "mission": mission,
            "applications": applicants_queryset(mission, request)[:500],
            "degraded": heavy_views_off(request),
            "filters": ApplicantFilterForm(initial=request.GET.dict(), mission=mission),
            "slots": mission.slots.with_counts(),
            "slot": chosen_slot(mission, request),
            "decision": DecisionForm(mission=mission),
        },
    )


@private
def export_applicants(request, org_id, mission_id, fmt):
    organisation, mission = my_mission(request, org_id, mission_id)
    if fmt not in exports.FORMATS:
        raise Http404
    if heavy_views_off(request):
        response = render(
            request,
            "organisations/heavy_views_off.html",
            {"organisation": organisation, "mission": mission},
            status=503,
        )
        response["Retry-After"] = "600"
        return response
    data, content_type = exports.applicants(applicants_queryset(mission, request), fmt)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="candidatures-{mission.pk}.{fmt}"'
    return response


@private
def team(request, org_id):
    organisation = my_organisation(request, org_id)
    form = InvitationForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and not ratelimits.refused(
            form, ratelimits.check_user_email(request, form.cleaned_data["email"])
        )
    ):
        services.invite(organisation, form.cleaned_data["email"], request.user)
        messages.success(request, _("Invitation sent."))
        return redirect("organisations:team", org_id=org_id)
    return render(
        request,
        "organisations/team.html",
        {
            "organisation": organisation,
            "memberships": organisation.memberships.select_related("user"),
            "invitations": organisation.invitations.filter(accepted_at__isnull=True),
            "form": form,
        },
    )


@private
def accept_invitation(request, token):
    if request.method == "POST":
        try:
            membership = services.accept_invitation(token, request.user, request.site)
        except services.InvitationForAnotherAddress:
            return render(request, "organisations/invitation_other_address.html", status=403)
        if membership is None:
            return render(request, "accounts/link_invalid.html", status=400)
        return redirect("organisations:dashboard", org_id=membership.organisation_id)
    return render(request, "accounts/link_confirm.html", {"action": _("Join the team")})


class TeamActionRefused(Exception):
    """Said to the manager as an error on the team page."""


def team_action(action):
    """A POST on the team page: the domain function acts, the page says what happened."""

    @private
    @require_POST
    def view(request, org_id, pk):
        organisation = my_organisation(request, org_id)
        try:
            message = action(request, organisation, pk)
        except ObjectDoesNotExist as missing:
            raise Http404 from missing
        except services.LastManager:
            messages.error(request, _("The team needs at least one manager."))
        except TeamActionRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, message)
        if not organisation.memberships.filter(user=request.user).exists():
            return redirect("organisations:home")  # left the team
        return redirect("organisations:team", org_id=org_id)

    return view


def _remove(request, organisation, pk):
    services.remove_member(organisation, pk, request.user)
    return _("Removed from the team.")


def _hand_over(request, organisation, pk):
    successor = services.hand_over(organisation, pk, request.user)
    return _("%(name)s is now in charge of the organisation; you left its team.") % {
        "name": successor.user.get_full_name() or successor.user.email
    }


def _resend(request, organisation, pk):
    """An email like an invitation: under the same limits, per manager and per address."""

    invitation = organisation.invitations.get(pk=pk, accepted_at__isnull=True)
    limited = ratelimits.check_user_email(request, invitation.email)
    if limited is not None:
        minutes = max(1, -(-limited.retry_after // 60))
        raise TeamActionRefused(
            ngettext(
                "Too many attempts. Try again in %(minutes)d minute.",
                "Too many attempts. Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        )
    services.resend_invitation(organisation, pk, request.user)
    return _("Invitation sent again; the previous link no longer works.")


def _revoke(request, organisation, pk):
    services.revoke_invitation(organisation, pk, request.user)
    return _("Invitation revoked; its link no longer works.")


remove_member = team_action(_remove)
hand_over = team_action(_hand_over)
resend_invitation = team_action(_resend)
revoke_invitation = team_action(_revoke)
