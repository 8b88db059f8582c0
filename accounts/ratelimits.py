"""Rate limits on the spike paths (django-ratelimit, counters in Redis, failing open)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


@dataclass
class Limited:
    retry_after: int


def check(request, group: str, rate: str, value: str) -> Limited | None:
    """Count one hit for `value` in `group`; a Limited when over `rate`, else None.

    The key is ours (the client IP from portal.middleware.client_ip, or an email address), so
    a forged X-Forwarded-For cannot pick it. If Redis is unreachable the limiter lets the
    request through and logs it: signups matter more than the limit during an incident.
    """
    if not value:
        return None
    try:
        usage = get_usage(request, group=group, key=lambda g, r: value, rate=rate, increment=True)
    except Exception:
        logger.warning("Rate limiter unavailable for %s: failing open", group, exc_info=True)
        return None
    if usage is None:
        logger.warning("Rate limiter unavailable for %s: failing open", group)
        return None
    if usage["should_limit"]:
        return Limited(retry_after=max(int(usage["time_left"]), 1))
    return None


def check_signup(request, email: str) -> Limited | None:
    return check(request, "signup-ip", settings.SIGNUP_RATE_PER_IP, request.client_ip) or check(
        request, "signup-email", settings.SIGNUP_RATE_PER_EMAIL, email
    )
