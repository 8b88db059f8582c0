"""What happens to an account: signup, confirmation, sign-in links, deletion, export.

Views (HTML and API) parse input and call these; tests call them directly.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.http import urlencode
from wagtail.models import Site

from conversations.services import erase_threads, export_threads
from emails.models import OutboundEmail
from emails.outbox import queue_email
from missions.services import withdraw_volunteer
from portal import languages
from tenants.models import PortalSettings

from .models import User, normalize_email
from .staff import is_staff_account
from .tokens import make_token

# Repeated signups with an existing address get one "you already have an account" email per
# window, not one per attempt.
EXISTING_ACCOUNT_EMAIL_WINDOW = 600


def per_window(event: str, user, seconds: int = EXISTING_ACCOUNT_EMAIL_WINDOW) -> str:
    """An idempotency key naming `event` for `user` in the current window of `seconds`: the
    outbox keeps the first email of a window and drops the repeats."""
    return f"{event}:{user.pk}:{int(time.time() // seconds)}"


class SignupsClosed(Exception):
    pass


@dataclass
class SignupResult:
    user: User
    created: bool


LINK_VIEWS = {
    "confirm": "accounts:confirm",
    "login": "accounts:magic_link",
    "change-email": "accounts:confirm_email_change",
    "totp-enrol": "accounts_totp_enrol_link",
}


def queue_link_email(
    user, template, purpose, key, site, language, *, to=None, fresh=False, next_url="", **context
):
    """Queue an email whose button is a signed link (see accounts.tokens) for `purpose`;
    `next_url` (checked by the caller, again by the link's view) is where it leads after."""
    return queue_email(
        to=to or user.email,
        template=template,
        idempotency_key=key,
        site=site,
        language=language,
        context=link_context(user, purpose, site, language, next_url, **context),
        fresh=fresh,
    )


def link_pattern(purpose: str, language: str) -> str:
    """The path of `purpose`'s link in `language`, TOKEN standing for its token: a batch
    resolves it once, not once per email."""
    return languages.reverse_in(language, LINK_VIEWS[purpose], ["TOKEN"])


def link_context(user, purpose, site, language, next_url="", *, pattern="", **context) -> dict:
    """The template context of a link email: the first name and the signed link's path."""
    pattern = pattern or link_pattern(purpose, language)
    path = pattern.replace("TOKEN", make_token(user, purpose, site))
    if next_url:
        path = f"{path}?{urlencode({'next': next_url})}"
    return {"first_name": user.first_name, "action_path": path, **context}


def link_email(user, template, purpose, key, site, language, *, next_url="", **context) -> dict:
    """The outbox row of a link email, for emails.outbox.queue_emails (batches); `pattern`
    in `context` saves resolving the URL (link_pattern)."""
    return {
        "to_email": user.email,
        "template": template,
        "idempotency_key": key,
        "site_id": site.pk,
        "language": language,
        "context": link_context(user, purpose, site, language, next_url, **context),
    }


def send_totp_enrolment_link(user: User, site: Site, language: str) -> None:
    """Production enrolment: the link proves the mailbox, the session the password, so a
    stolen password alone cannot enrol the thief's phone (one email per 10 minutes)."""
    key = per_window("totp-enrolment", user)
    with transaction.atomic():
        queue_link_email(user, "totp_enrolment", "totp-enrol", key, site, language)


def public_account(*, site_id: int, language: str, data: dict, at) -> dict:
    """The fields of the account a public signup makes (at `at`, the moment it was accepted):
    a dict, as the signup writer inserts 500 at once without building model instances."""
    return {
        "email": normalize_email(data["email"]),
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "postal_code": data["postal_code"],
        "birth_date": data["birth_date"],
        "phone": data.get("phone", ""),
        "signup_site_id": site_id,
        "signed_up_publicly": True,
        "language": language,
        "consent_at": at,
        "date_joined": at,
        # What set_unusable_password() stores, from one urandom call instead of forty.
        "password": UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(20),
    }


def confirmation_key(user: User) -> str:
    return f"signup-confirmation:{user.pk}"


def signup(*, site: Site, language: str, data: dict, next_url: str = "") -> SignupResult:
    """Create an unconfirmed account and queue its confirmation email, in one transaction.

    No password is hashed here (the spike path must stay cheap); the confirmation link signs
    the volunteer in and a password can be set later. An address already registered gets a
    sign-in link instead of a second account, and the caller answers both cases the same way.
    Either link leads to `next_url` (a page of this portal, e.g. the application page the
    visitor came from) once used.
    """
    if not PortalSettings.cached_for_site(site).signups_open:
        raise SignupsClosed
    user = User(**public_account(site_id=site.pk, language=language, data=data, at=timezone.now()))
    email = user.email
    try:
        # BEGIN, INSERT user, INSERT outbox, COMMIT: no savepoint. A taken address fails the
        # first INSERT, which rolls back a transaction that did nothing else.
        with transaction.atomic():
            user.save(force_insert=True)
            queue_link_email(
                user,
                "account_confirmation",
                "confirm",
                confirmation_key(user),
                site,
                language,
                fresh=True,
                next_url=next_url,
                valid_hours=settings.ACCOUNT_CONFIRMATION_MAX_AGE // 3600,
            )
    except IntegrityError:
        # Taken, possibly by a concurrent request that has just committed.
        existing = User.objects.get(email=email)
        key = per_window("signup-existing", existing)
        with transaction.atomic():
            queue_link_email(
                existing,
                "account_exists",
                "login",
                key,
                site,
                language,
                next_url=next_url,
            )
        return SignupResult(existing, created=False)
    return SignupResult(user, created=True)


def confirm_email(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])


def send_signin_link(*, email: str, site: Site, language: str, next_url: str = "") -> bool:
    """Queue a magic sign-in link if the address has an account; silent otherwise. The link
    leads to `next_url` once used.

    Never for a staff account: those sign in with a password and a code (accounts.staff), so
    no emailed token could open the admin, and the answer stays the same (no enumeration).
    """
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None or is_staff_account(user):
        return False
    with transaction.atomic():
        queue_link_email(
            user,
            "signin_link",
            "login",
            per_window("signin-link", user, seconds=60),
            site,
            language,
            next_url=next_url,
            valid_minutes=settings.ACCOUNT_SIGNIN_LINK_MAX_AGE // 60,
        )
    return True


def digest(value: str) -> str:
    """A short ASCII stand-in for an address in an idempotency key."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def mask_email(email: str) -> str:
    """`c*****@example.com`: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 1)}@{domain}"


def notify_old_address(user: User, old_email: str, new_email: str, stage: str, site, language):
    """Tell the current address that a change was asked for, or made: if the session was
    not the owner's, the owner learns it while the old address still works."""
    queue_email(
        to=old_email,
        template="email_change_notice",
        # The event: this account, this stage, this address, this second (like the link's).
        idempotency_key=(
            f"email-change-notice:{user.pk}:{stage}:{digest(new_email)}:{int(time.time())}"
        ),
        site=site,
        language=language,
        context={
            "first_name": user.first_name,
            "new_email": mask_email(new_email),
            "changed": stage == "changed",
        },
    )


def request_email_change(user: User, new_email: str, site: Site, language: str) -> None:
    """The new address must prove it is reachable before it replaces the old one."""
    with transaction.atomic():
        user.pending_email = normalize_email(new_email)
        user.save(update_fields=["pending_email"])
        queue_link_email(
            user,
            "email_change",
            "change-email",
            f"email-change:{user.pk}:{int(time.time())}:{digest(user.pending_email)}",
            site,
            language,
            to=user.pending_email,
        )
        notify_old_address(user, user.email, user.pending_email, "requested", site, language)


def apply_email_change(user: User, site: Site | None = None) -> bool:
    old_email, new_email = user.email, user.pending_email
    if not new_email or User.objects.filter(email=new_email).exclude(pk=user.pk).exists():
        return False
    try:
        with transaction.atomic():
            user.email, user.pending_email = new_email, ""
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email", "pending_email", "email_confirmed_at"])
            site = site or user.signup_site
            notify_old_address(user, old_email, new_email, "changed", site, user.language)
    except IntegrityError:
        return False
    return True


def sign_out_everywhere(user: User) -> None:
    """Every session of this user stops validating (see User._get_session_auth_hash)."""
    User.objects.filter(pk=user.pk).update(auth_epoch=F("auth_epoch") + 1)
    user.refresh_from_db(fields=["auth_epoch"])


def delete_account(user: User) -> None:
    """Erase personal data; the row stays, anonymous, so associations' statistics hold.

    Open applications are cancelled first (places freed, waiting lists promoted), then the
    messages the volunteer wrote and their name in the managers' emails are erased, and their
    threads with the associations go."""
    old_email = user.email
    with transaction.atomic():
        withdraw_volunteer(user)
        erase_threads(user)
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.first_name = user.last_name = user.phone = user.postal_code = user.pending_email = ""
        user.birth_date = None
        user.availability, user.interests = [], []
        user.is_active = False
        user.auth_epoch += 1
        user.set_unusable_password()
        user.save()
        OutboundEmail.objects.filter(to_email__iexact=old_email).update(
            to_email=user.email, context={}
        )


def export_data(user: User) -> dict:
    emails = OutboundEmail.objects.filter(to_email__iexact=user.email).order_by("created_at")
    return {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "postal_code": user.postal_code,
            "birth_date": user.birth_date.isoformat() if user.birth_date else None,
            "phone": user.phone,
            "language": user.language,
            "availability": user.availability,
            "interests": user.interests,
            "signed_up_on": user.signup_site.hostname if user.signup_site else None,
            "date_joined": user.date_joined.isoformat(),
            "consent_at": user.consent_at.isoformat() if user.consent_at else None,
            "email_confirmed_at": (
                user.email_confirmed_at.isoformat() if user.email_confirmed_at else None
            ),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "applications": [
            {
                "mission": a.mission.title,
                "organisation": a.mission.organisation.name,
                "status": a.status,
                "message": a.message,
                "applied_at": a.created_at.isoformat(),
                "status_changed_at": (
                    a.status_changed_at.isoformat() if a.status_changed_at else None
                ),
                "cancel_reason": a.cancel_reason,
                "details": a.reason_text,
                "you_said_it_happened": a.volunteer_attended,
                "your_comment_after_the_mission": a.attendance_comment,
                "answered_at": (
                    a.attendance_answered_at.isoformat() if a.attendance_answered_at else None
                ),
            }
            for a in user.applications.select_related("mission__organisation").order_by("pk")
        ],
        "messages": export_threads(user),
        "favourites": [
            {
                "mission": f.mission.title,
                "organisation": f.mission.organisation.name,
                "saved_at": f.created_at.isoformat(),
            }
            for f in user.favourites.select_related("mission__organisation").order_by("pk")
        ],
        "memberships": [
            {"organisation": m.organisation.name, "since": m.created_at.isoformat()}
            for m in user.memberships.select_related("organisation").order_by("pk")
        ],
        "emails_sent_to_you": [
            {
                "template": e.template,
                "status": e.status,
                "created_at": e.created_at.isoformat(),
                "sent_at": e.sent_at.isoformat() if e.sent_at else None,
            }
            for e in emails
        ],
    }


def purge_unconfirmed(older_than_days: int | None = None, chunk: int = 1000) -> int:
    """Delete public signups never confirmed after the documented delay.

    Only accounts the public signup created (`signed_up_publicly`): accounts made in the
    Wagtail admin (editors, moderators, administrators) never confirm an address and must
    not vanish. Staff, superusers and group members are kept even if so marked.
    """
    days = older_than_days or settings.ACCOUNT_UNCONFIRMED_PURGE_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    total = 0
    while True:
        rows = list(
            User.objects.filter(
                signed_up_publicly=True,
                email_confirmed_at__isnull=True,
                date_joined__lt=cutoff,
                is_staff=False,
                is_superuser=False,
                groups=None,
            ).values_list("pk", "email")[:chunk]
        )
        if not rows:
            return total
        ids, emails = zip(*rows, strict=True)
        with transaction.atomic():
            # Their confirmation emails (address, name, link) go with them.
            OutboundEmail.objects.filter(to_email__in=emails).delete()
            total += User.objects.filter(pk__in=ids).delete()[1].get("accounts.User", 0)
