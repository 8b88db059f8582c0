"""Staff two-factor in tests: give an account a confirmed TOTP device and verify a session.

The requirement stays on in the test settings: `tests/conftest.py` makes `Client.force_login`
of a staff account (superuser, is_staff, any group) also verify the session with a device, as
a person would after typing a code; tests of the two-factor rules sign in without it
(`force_login_unverified`) or with a password.
"""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.staff import is_staff_account

_original_force_login = Client.force_login


def verified_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def verify_session(client: Client, user) -> TOTPDevice:
    """Mark the client's session as verified with the user's device, as django_otp.login."""
    device = verified_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def force_login_unverified(client: Client, user, backend=None):
    return _original_force_login(client, user, backend)


def force_login_verified(client: Client, user, backend=None):
    """Client.force_login for the suite: staff sessions come verified."""
    _original_force_login(client, user, backend)
    if is_staff_account(user):
        verify_session(client, user)
