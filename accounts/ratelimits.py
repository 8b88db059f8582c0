"""Rate limits (django-ratelimit, counters in Redis, failing open).

Every limit here is keyed on something an attacker cannot choose freely: the client IP as our
trusted proxies saw it (IPv6 on its /64, the block one subscriber gets), an account, or an
address combined with the IP, so that a stranger cannot spend someone else's allowance.
"""

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import ngettext
from django_ratelimit.core import _get_window, _split_rate, get_usage

logger = logging.getLogger(__name__)


@dataclass
class Limited:
    retry_after: int


def ip_key(ip: str) -> str:
    """The rate-limit key of a client address: IPv4 as is, IPv6 as its /64.

    An IPv6 subscriber usually holds a whole /64 (often more) and can pick a fresh address in
    it for every request, so a per-/128 limit would not limit anything.
    """
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ip or ""
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_key(request) -> str:
    return ip_key(getattr(request, "client_ip", "") or request.META.get("REMOTE_ADDR", ""))


def check(request, group: str, rate: str, value: str, *, increment: bool = True) -> Limited | None:
    """Count one hit for `value` in `group`; a Limited when over `rate`, else None.

    `increment=False` only reads the counter (to refuse before doing the work, counting
    later with `hit` only what should count, e.g. failed passwords). If Redis is unreachable
    the limiter lets the request through and logs it: the portal matters more than the limit
    during an incident.
    """
    if not value:
        return None
    try:
        usage = get_usage(
            request, group=group, key=lambda g, r: value, rate=rate, increment=increment
        )
    except Exception:
        logger.warning("Rate limiter unavailable for %s: failing open", group, exc_info=True)
        return None
    if usage is None:
        logger.warning("Rate limiter unavailable for %s: failing open", group)
        return None
    # Reading without counting: the next attempt would be one too many once the count
    # reaches the limit.
    over = usage["should_limit"] if increment else usage["count"] >= usage["limit"]
    if over:
        return Limited(retry_after=max(int(usage["time_left"]), 1))
    return None


def hit(request, group: str, rate: str, value: str) -> None:
    check(request, group, rate, value)


def check_signup(request, email: str) -> Limited | None:
    return check(request, "signup-ip", settings.SIGNUP_RATE_PER_IP, client_key(request)) or check(
        request, "signup-email", settings.SIGNUP_RATE_PER_EMAIL, email
    )


@dataclass
class Window:
    """One counter's current window, as django-ratelimit cuts them (same period, same
    per-value jitter), for a counter kept elsewhere than its cache (the signup stream's
    script counts in the same round trip as the XADD)."""

    key: str
    limit: int
    seconds_left: int


def window(group: str, rate: str, value: str) -> Window:
    limit, period = _split_rate(rate)
    end = _get_window(value, period)
    digest = hashlib.sha256(f"{group}|{value}|{period}|{end}".encode()).hexdigest()[:32]
    if not value:  # as check(): nothing to key on, no limit
        limit = 2**62
    return Window(f"{group}:{digest}", limit, max(end - int(time.time()), 1))


def signup_windows(request, email: str) -> list[Window]:
    """check_signup's two limits, in its order: per client IP, then per address."""
    return [
        window("signup-ip", settings.SIGNUP_RATE_PER_IP, client_key(request)),
        window("signup-email", settings.SIGNUP_RATE_PER_EMAIL, email),
    ]


# --- Sign-in links ----------------------------------------------------------------------------


def check_signin_link(request, email: str) -> tuple[Limited | None, bool]:
    """(limited, send) for a sign-in link request.

    `limited`: this client asked too often (per IP, and per address from this IP): it gets a
    429. The per-address counter includes the IP, so a stranger who asks for links with a
    volunteer's address uses up their own allowance, not the volunteer's.
    `send`: False once the address itself received SIGNIN_LINK_RATE_PER_EMAIL links this
    hour from all IPs together; the answer stays the same (no lock-out, no enumeration) but
    nothing more is sent, so many IPs together cannot flood a mailbox either.
    """
    ip = client_key(request)
    limited = check(request, "signin-link-ip", settings.SIGNUP_RATE_PER_IP, ip) or check(
        request, "signin-link-email-ip", settings.SIGNIN_LINK_RATE_PER_EMAIL_IP, f"{email}|{ip}"
    )
    if limited:
        return limited, False
    return None, check(
        request, "signin-link-email", settings.SIGNIN_LINK_RATE_PER_EMAIL, email
    ) is None


# --- Email sent on behalf of a signed-in user -------------------------------------------------


def check_user_email(request, target: str) -> Limited | None:
    """Email change, invitations: per user (all targets) and per target address (all users).

    A signed-in account is cheap to make, so both: one account cannot mail many addresses,
    and many accounts together cannot bombard one address.
    """
    user_key = str(getattr(request.user, "pk", "") or "")
    return check(request, "user-email", settings.USER_EMAIL_RATE_PER_USER, user_key) or check(
        request, "user-email-target", settings.USER_EMAIL_RATE_PER_TARGET, (target or "").lower()
    )


def check_organisation_creation(request) -> Limited | None:
    user_key = str(getattr(request.user, "pk", "") or "")
    return check(
        request, "organisation-create", settings.ORGANISATION_CREATE_RATE_PER_USER, user_key
    )


def check_mission_report(request, mission_id: int) -> Limited | None:
    """A visitor's reports of missions: per IP, and a tighter one per IP on one mission (a
    report is anonymous, so the IP is all there is to key on)."""
    ip = client_key(request)
    return check(request, "mission-report-ip", settings.MISSION_REPORT_RATE_PER_IP, ip) or check(
        request,
        "mission-report-mission-ip",
        settings.MISSION_REPORT_RATE_PER_MISSION_IP,
        f"{mission_id}|{ip}",
    )


def check_message(request) -> Limited | None:
    """Messages in application threads, per author: a burst a minute, a conversation an hour
    (each message may end in an email to the other side)."""
    user_key = str(getattr(request.user, "pk", "") or "")
    return check(
        request, "message-minute", settings.MESSAGE_RATE_PER_USER_MINUTE, user_key
    ) or check(request, "message-hour", settings.MESSAGE_RATE_PER_USER_HOUR, user_key)


# --- Password sign-in -------------------------------------------------------------------------


def check_password_login(request, username: str) -> Limited | None:
    """Before checking a password: the IP's attempts, then the account's failures.

    Every attempt counts against the IP (LOGIN_RATE_PER_IP). Failures count against the
    account from this IP (LOGIN_RATE_PER_ACCOUNT_IP, tight) and from everywhere
    (LOGIN_RATE_PER_ACCOUNT, loose): a single stranger cannot lock the owner out, and a
    botnet still gets only so many guesses an hour at one account.
    """
    account = (username or "").strip().lower()
    ip = client_key(request)
    return (
        check(request, "login-ip", settings.LOGIN_RATE_PER_IP, ip)
        or check(
            request,
            "login-account-ip",
            settings.LOGIN_RATE_PER_ACCOUNT_IP,
            f"{account}|{ip}",
            increment=False,
        )
        or check(
            request, "login-account", settings.LOGIN_RATE_PER_ACCOUNT, account, increment=False
        )
    )


def password_login_failed(request, username: str) -> None:
    account = (username or "").strip().lower()
    ip = client_key(request)
    hit(request, "login-account-ip", settings.LOGIN_RATE_PER_ACCOUNT_IP, f"{account}|{ip}")
    hit(request, "login-account", settings.LOGIN_RATE_PER_ACCOUNT, account)


def check_otp(request) -> Limited | None:
    """Second-factor codes per account (django-otp also slows down each device)."""
    user_key = str(getattr(request.user, "pk", "") or "")
    return check(request, "otp-user", settings.OTP_RATE_PER_USER, user_key)


def too_many(response, limited: Limited):
    """Any answer over a limit, page or JSON: 429, and when to come back."""
    response.status_code = 429
    response["Retry-After"] = str(limited.retry_after)
    return response


def answer(response, form):
    """`response` as it is, or a 429 when `form` was refused for a limit (`refused`)."""
    limited = getattr(form, "rate_limited", None)
    return too_many(response, limited) if limited else response


def refused(form, limited: Limited | None) -> bool:
    """True (and a readable error on the form) when `limited`: for views that re-render."""
    if limited is None:
        return False
    form.rate_limited = limited

    minutes = max(1, -(-limited.retry_after // 60))
    form.add_error(
        None,
        ngettext(
            "Too many attempts. Try again in %(minutes)d minute.",
            "Too many attempts. Try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
    )
    return True
