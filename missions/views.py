"""The public mission page and the volunteer's application to it.

The mission page is the same bytes for every visitor (CDN, page cache): nothing about the
visitor is on it. What depends on them (signed in or not, already applied, old enough) is on
the application page, which is `private, no-store`.
"""

from urllib.parse import quote, urlencode

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import ratelimits
from moderation import reports
from portal.cache import public_cache
from portal.csrf import same_origin_or_token

from . import services
from .forms import ApplicationForm, ReportForm
from .html import clean_description
from .models import Application, Mission


def public_mission(request, pk):
    """The mission if volunteers of this portal may see it; 404 otherwise (draft, refused,
    closed, another portal's, organisation not validated)."""
    return get_object_or_404(
        Mission.objects.public(request.site).select_related("organisation", "domain", "activity"),
        pk=pk,
    )


@public_cache
def mission(request, pk, slug=None):
    found = public_mission(request, pk)
    if slug != found.slug:
        return redirect(found.get_absolute_url(), permanent=True)
    slots = list(found.slots.upcoming().with_counts())
    root = request.site.root_url
    canonical = root + found.get_absolute_url()
    summary = Truncator(" ".join(strip_tags(found.description).split())).chars(200)
    return TemplateResponse(
        request,
        "missions/mission.html",
        {
            "mission": found,
            # Cleaned when saved; again here, so a row written around save() shows no markup.
            "description": mark_safe(clean_description(found.description)),  # noqa: S308
            "canonical": canonical,
            "alternates": language_urls(request.site, found),
            "summary": summary,
            "share": share_links(canonical, found.title),
            "map_url": map_url(found),
            "structured_data": job_posting(found, canonical, root),
            "report_form": ReportForm(auto_id="report_%s"),
            "slots": slots,
            "slots_places_left": sum(slot.places_left for slot in slots),
        },
    )


def language_urls(site, obj) -> list[tuple[str, str]]:
    """[(language, full URL)] of an object's page in each language (hreflang alternates)."""
    urls = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            urls.append((code, site.root_url + obj.get_absolute_url()))
    return urls


def share_links(url: str, title: str) -> dict:
    """Plain links to each network's share page: no third-party script, no tracking."""
    return {
        "mail": "mailto:?" + urlencode({"subject": title, "body": url}, quote_via=quote),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
        "x": "https://x.com/intent/post?" + urlencode({"text": title, "url": url}),
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url}),
    }


def map_url(mission: Mission) -> str:
    """OpenStreetMap at the mission's place: a link, so the page loads no map tiles (CSP)."""
    if mission.is_remote or mission.latitude is None or mission.longitude is None:
        return ""
    lat, lng = f"{mission.latitude:.5f}", f"{mission.longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=16/{lat}/{lng}"


def job_posting(mission: Mission, url: str, root: str) -> dict:
    """schema.org JobPosting for a volunteer offer (what search engines read of the page)."""
    organisation = mission.organisation
    data = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": mission.title,
        "description": mission.description,
        "url": url,
        "datePosted": mission.created_at.date().isoformat(),
        "employmentType": "VOLUNTEER",
        "directApply": True,
        "totalJobOpenings": mission.places,
        "hiringOrganization": {
            "@type": "Organization",
            "name": organisation.name,
            "url": root + organisation.get_absolute_url(),
        },
    }
    if mission.end_date:
        data["validThrough"] = mission.end_date.isoformat()
    if mission.start_date:
        data["jobStartDate"] = mission.start_date.isoformat()
    if mission.is_remote:
        data["jobLocationType"] = "TELECOMMUTE"
        data["applicantLocationRequirements"] = {"@type": "Country", "name": "FR"}
    else:
        address = {
            "@type": "PostalAddress",
            "postalCode": mission.postal_code,
            "addressLocality": mission.city,
            "addressCountry": "FR",
        }
        if mission.address:
            address["streetAddress"] = mission.address
        place = {"@type": "Place", "address": address}
        if mission.latitude is not None and mission.longitude is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": mission.latitude,
                "longitude": mission.longitude,
            }
        data["jobLocation"] = place
    return data


# --- Applying -------------------------------------------------------------------------------


def refusal_message(code: str, mission: Mission) -> str:
    """What the volunteer reads for each of missions.services.apply's refusals."""
    messages = {
        "unconfirmed": _(
            "Confirm your email address first: follow the link we sent you when you signed up."
        ),
        "duplicate": _("You already offered your help for this mission."),
        "closed": _("This mission no longer takes applications."),
        "full": _("This mission is full."),
        "too_young": _("This mission is open from age %(age)d.") % {"age": mission.minimum_age},
        "forbidden": _("Sign in to offer your help."),
        "slots_required": _("Choose at least one slot."),
        "invalid_slots": _("Choose among this mission's slots."),
        "slot_started": _("One of these slots has started: choose another."),
        "slot_full": _("One of these slots is full: choose others."),
    }
    return messages.get(code, _("Your application could not be sent."))


REFUSAL_STATUS = {"duplicate": 409, "unconfirmed": 403, "too_young": 403, "forbidden": 403}
# Refusals about the slots chosen: said on the form, which the volunteer sends again.
SLOT_REFUSALS = ("slots_required", "invalid_slots", "slot_started")


@never_cache
def apply(request, pk):
    """ "I offer my help": signed out, a way to sign in or up that comes back here; signed in,
    the form (one message), sent through missions.services.apply like the API. Once applied,
    this page says so (and how the application stands)."""
    found = public_mission(request, pk)
    here = reverse("mission_apply", kwargs={"pk": found.pk})
    context = {"mission": found, "full": found.places_left == 0 and not found.slots.exists()}
    if not request.user.is_authenticated:
        query = urlencode({"next": here})
        context["doors"] = [  # both come back here
            (
                f"{reverse('accounts:signup')}?{query}",
                _("I am new here"),
                _("Create my account in a minute: we email you a link to confirm your address."),
            ),
            (
                f"{reverse('accounts:login')}?{query}",
                _("I already have an account"),
                _("Sign in with your password or a link sent by email."),
            ),
        ]
        return TemplateResponse(request, "missions/apply_signed_out.html", context)
    volunteer = request.user
    existing = Application.objects.filter(mission=found, volunteer=volunteer).first()
    if existing is not None:
        if request.method == "POST":  # a second tab, a double click: show where it stands
            return redirect(here)
        bookings = list(existing.bookings.select_related("slot").order_by("slot__start"))
        for booking in bookings:
            booking.label = services.slot_label(booking.slot)
        context.update(
            application=existing, bookings=bookings, just_sent=request.GET.get("sent") == "1"
        )
        return TemplateResponse(request, "missions/apply_done.html", context)
    blocked = None
    if volunteer.email_confirmed_at is None:
        blocked = "unconfirmed"
    elif services.too_young(volunteer, found):
        blocked = "too_young"
    form = ApplicationForm(request.POST or None, mission=found)
    if request.method == "POST" and blocked is None and form.is_valid():
        slots = [slot.pk for slot in form.cleaned_data.get("slots", ())]
        try:
            services.apply(found.pk, volunteer, form.cleaned_data["message"], slots)
        except services.ApplicationRefused as refused:
            if refused.code == "duplicate":  # the same, at the same instant
                return redirect(here)
            if refused.code in SLOT_REFUSALS or (refused.code == "full" and slots):
                code = "slot_full" if refused.code == "full" else refused.code
                form.add_error(
                    "slots" if "slots" in form.fields else None, refusal_message(code, found)
                )
            else:
                blocked = refused.code
        else:
            return redirect(f"{here}?sent=1")
    context.update(
        form=form,
        blocked=blocked,
        blocked_message=refusal_message(blocked, found) if blocked else "",
    )
    status = 200
    if request.method == "POST":
        status = REFUSAL_STATUS.get(blocked, 400)
    return TemplateResponse(request, "missions/apply.html", context, status=status)


# --- Reporting ------------------------------------------------------------------------------


@never_cache
@same_origin_or_token
def report(request, pk):
    """A visitor reports the mission to the moderators. The cached mission page posts here
    without a token or a session (portal.csrf: the browser's Origin vouches); this page, not
    cached, draws the form again with its errors, or thanks once sent."""
    found = public_mission(request, pk)
    here = reverse("mission_report", kwargs={"pk": found.pk})
    context = {"mission": found}
    if request.method != "POST" and request.GET.get("sent") == "1":
        return TemplateResponse(request, "missions/report_done.html", context)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        # Only a valid report counts: a mistyped one writes nothing.
        if form.is_valid() and not ratelimits.refused(
            form, ratelimits.check_mission_report(request, found.pk)
        ):
            reports.report(found, form.cleaned_data["reason"], form.cleaned_data["message"])
            return redirect(f"{here}?sent=1")
    context["form"] = form
    response = TemplateResponse(
        request, "missions/report.html", context, status=400 if request.method == "POST" else 200
    )
    return ratelimits.answer(response, form)
