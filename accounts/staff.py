"""Staff accounts: who they are, and their second factor (TOTP, django-otp).

Staff sign in with a password and a code from an authenticator app, never with an emailed
link: a mailbox is one factor, and staff accounts can publish on every portal or validate
associations. The second factor is required for superusers and moderators and optional for
editors (once an editor enrols, the admin asks for the code too).
"""

import io
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db.models import Q
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

# A group that can moderate: the per-portal "Modérateurs · …" groups get these permissions
# (organisations.services.ensure_moderators_group); Wagtail's stock "Moderators" too.
MODERATION = (
    Q(
        permissions__content_type__app_label="organisations",
        permissions__codename="change_organisation",
    )
    | Q(permissions__content_type__app_label="missions", permissions__codename="change_mission")
    | Q(name="Moderators")
)


def is_staff_account(user) -> bool:
    """Staff, superusers and members of any group (editors, moderators): group membership is
    how the admin grants rights; association managers are members of organisations instead."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or user.groups.exists()


def is_moderator(user) -> bool:
    return user.groups.filter(MODERATION).exists()


def requires_two_factor(user) -> bool:
    """Superusers and moderators cannot use the admin without a verified device."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or is_moderator(user)


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def must_verify(user) -> bool:
    """The admin asks this user for a code: required, or chosen by enrolling a device."""
    return requires_two_factor(user) or has_device(user)


def digits(code: str) -> str:
    """A code as typed ("123 456"), or "" if it is not all digits."""
    code = (code or "").strip().replace(" ", "")
    return code if code.isdigit() else ""


def verify_code(user, code: str):
    """The confirmed device that accepts `code`, or None (each device throttles failures)."""
    code = digits(code)
    if not code:
        return None
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(code):
            return device
    return None


def pending_device(user) -> TOTPDevice:
    """The device being enrolled: one unconfirmed device per user, reused across reloads."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


def confirm_device(device: TOTPDevice, code: str) -> bool:
    """Enrolment ends when the app shows a code the device accepts."""
    code = digits(code)
    if device.confirmed or not code or not device.verify_token(code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no image request, nothing to host)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # without the XML declaration, to embed in HTML


def secret_base32(device: TOTPDevice) -> str:
    """The key for apps that cannot scan, in groups of four."""

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
