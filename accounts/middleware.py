"""Staff two-factor: the admin opens only to a session verified with a device."""

from urllib.parse import quote

from django.shortcuts import redirect
from django.urls import reverse

from . import staff

# What an unverified session may reach under /admin/: signing in and out, the second step,
# password reset, and the static bits the login page needs.
OPEN_ADMIN_PATHS = (
    "/admin/login/",
    "/admin/logout/",
    "/admin/2fa/",
    "/admin/password_reset/",
    "/admin/sprite/",
    "/admin/jsi18n/",
)


class StaffTwoFactorMiddleware:
    """After django_otp's OTPMiddleware: an admin request from a signed-in account that must
    verify (superusers, moderators, anyone who enrolled) and has not goes to the code page,
    or to enrolment without a device. Verified sessions cost no query here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/admin/") and not path.startswith(OPEN_ADMIN_PATHS):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and not user.is_verified():
                if staff.must_verify(user):
                    step = "verify" if staff.has_device(user) else "enrol"
                    url = reverse(f"accounts_totp_{step}")
                    return redirect(f"{url}?next={quote(request.get_full_path())}")
        return self.get_response(request)
