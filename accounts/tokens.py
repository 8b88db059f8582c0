"""Signed, expiring, single-use links (confirm an address, sign in, change email).

A token carries the user id, its purpose, the portal it was sent from and a digest of the user's
state (email, confirmation, last login, pending email, password, sign-out epoch). Using the
link changes that state (it confirms the address or signs the user in, which sets last_login),
so the same link cannot work twice, and "sign out of all my devices" (which bumps the epoch)
voids every link already sent. It only works on the portal that sent it: a link that leaked
to, or was built on, another portal's host is refused there.
"""

import hashlib

from django.core import signing
from wagtail.models import Site

from .models import User

SALT = "accounts.tokens"


def state(user: User) -> str:
    raw = "|".join(
        str(v)
        for v in (
            user.pk,
            user.email,
            user.email_confirmed_at,
            user.last_login,
            user.pending_email,
            user.password,
            user.is_active,
            user.auth_epoch,
        )
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def make_token(user: User, purpose: str, site: Site) -> str:
    """A link token for `purpose`, valid only on `site` (the portal whose email carries it)."""
    payload = {"u": user.pk, "p": purpose, "t": site.pk, "s": state(user)}
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str, purpose: str, max_age: int, site: Site) -> User | None:
    """The user the token was made for, or None if it is forged, expired, used or mis-aimed
    (another purpose, or another portal than `site`, the one it is presented on)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("p") != purpose:
        return None
    if data.get("t") != site.pk:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or state(user) != data.get("s"):
        return None
    return user
