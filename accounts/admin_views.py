"""Admin sign-in for staff: throttled password, then a TOTP code (accounts.staff).

Mounted under /admin/ before Wagtail's own URLs (portal/urls.py), so `/admin/login/` is this
throttled view; `accounts.middleware.StaffTwoFactorMiddleware` sends an unverified staff
session to `verify` (or `enrol`, without a device) before any other admin page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm
from wagtail.admin.views.account import LoginView as WagtailLoginView

from portal import languages
from portal.redirects import next_from

from . import ratelimits, services, staff
from .forms import OTPCodeForm, ThrottledLoginMixin
from .tokens import read_token
from .views import ThrottledLoginViewMixin

ENROL_SESSION_KEY = "accounts.totp_enrol_allowed"
ENROL_LINK_MAX_AGE = 3600


class AdminLoginForm(ThrottledLoginMixin, WagtailLoginForm):
    """Wagtail's sign-in form, throttled like the public one."""


class AdminLoginView(ThrottledLoginViewMixin, WagtailLoginView):
    def get_form_class(self):
        return AdminLoginForm


def next_url(request) -> str:
    return next_from(request) or reverse("wagtailadmin_home")


def staff_only(view):
    """Signed in (else the admin login) and allowed in the admin (else 403)."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("wagtailadmin_login"))
        if not request.user.has_perm("wagtailadmin.access_admin"):
            return render(request, "accounts/staff_two_factor.html", {"denied": True}, status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def posted_code(request, form, accepts) -> tuple[object, int]:
    """A code posted to `form`, rate-limited per account, then `accepts(code)`.

    Returns what `accepts` returned (falsy when refused) and the status to answer with."""
    if request.method != "POST" or not form.is_valid():
        return None, 200
    if limited := ratelimits.check_otp(request):
        ratelimits.refused(form, limited)
        return None, 429
    if accepted := accepts(form.cleaned_data["code"]):
        return accepted, 200
    form.add_error("code", _("This code is not valid. Use the current one."))
    return None, 400


@staff_only
def verify(request):
    """The second step of the admin sign-in."""
    user = request.user
    if not staff.has_device(user):
        return redirect(f"{reverse('accounts_totp_enrol')}?next={next_url(request)}")
    form = OTPCodeForm(request.POST or None)
    device, status = posted_code(request, form, lambda code: staff.verify_code(user, code))
    if device:
        request.session.cycle_key()
        otp_login(request, device)
        return redirect(next_url(request))
    context = {"form": form, "step": "verify", "next": next_url(request)}
    page = render(request, "accounts/staff_two_factor.html", context, status=status)
    return ratelimits.answer(page, form)


def may_enrol(request) -> bool:
    """First device: at sign-in where the settings allow it (demo), else after the emailed
    link. Another device: from a session already verified with the first one."""
    user = request.user
    if user.is_verified():
        return True
    if staff.has_device(user):
        return False
    if settings.TWO_FACTOR_ENROL_AT_SIGN_IN:
        return True
    return request.session.get(ENROL_SESSION_KEY) == user.pk


@staff_only
def enrol(request):
    user = request.user
    if not may_enrol(request):
        if staff.has_device(user):
            return redirect(f"{reverse('accounts_totp_verify')}?next={next_url(request)}")
        sent = False
        if request.method == "POST":
            services.send_totp_enrolment_link(user, request.site, languages.current())
            sent = True
        context = {"step": "link", "sent": sent, "next": next_url(request)}
        return render(request, "accounts/staff_two_factor.html", context)
    device = staff.pending_device(user)
    form = OTPCodeForm(request.POST or None)
    confirmed, status = posted_code(request, form, lambda c: staff.confirm_device(device, c))
    if confirmed:
        request.session.pop(ENROL_SESSION_KEY, None)
        request.session.cycle_key()
        otp_login(request, device)
        messages.success(request, _("Two-factor sign-in is on for your account."))
        return redirect(next_url(request))
    context = {
        "form": form,
        "step": "enrol",
        "next": next_url(request),
        "qr_svg": staff.qr_svg(device),
        "secret": staff.secret_base32(device),
        "required": staff.requires_two_factor(user),
    }
    page = render(request, "accounts/staff_two_factor.html", context, status=status)
    return ratelimits.answer(page, form)


@staff_only
def enrol_link(request, token):
    """The emailed enrolment link: valid for the signed-in account it was sent to only."""
    user = read_token(token, "totp-enrol", ENROL_LINK_MAX_AGE, request.site)
    if user is None or user.pk != request.user.pk:
        return render(request, "accounts/link_invalid.html", status=400)
    if request.method != "POST":
        return render(request, "accounts/link_confirm.html", {"action": _("Set up the app")})
    request.session[ENROL_SESSION_KEY] = user.pk
    return redirect("accounts_totp_enrol")
