"""Hostnames and the operators' allow-list: pure checks, no query (models and forms use them)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def normalize_hostname(hostname: str) -> str:
    return hostname.strip().lower().rstrip(".")


def is_hostname(value: str) -> bool:
    if not HOSTNAME.match(value):
        raise ValidationError(_("Enter a hostname such as jeveuxaider.gouv.fr."))
    return True


def domain_allowed(hostname: str, allowed: list[str] | None = None) -> bool:
    """Is `hostname` on the operators' allow-list (settings.PORTAL_DOMAINS)?

    ".gouv.fr" allows gouv.fr and every name under it; "jeveuxaider.fr" that name only. The
    list is the operators', not the editors': a portal's domain is where its email links
    point, so moving it to a host someone else controls would hand them every token.
    """
    hostname = normalize_hostname(hostname)
    for entry in settings.PORTAL_DOMAINS if allowed is None else allowed:
        entry = normalize_hostname(entry)
        if entry.startswith("."):
            if hostname == entry[1:] or hostname.endswith(entry):
                return True
        elif entry and hostname == entry:
            return True
    return False


def validate_move(current: str, hostname: str) -> None:
    """Staying on the current hostname is always fine; moving needs a well-formed hostname on
    PORTAL_DOMAINS (whether another portal holds it is `tenants.models.validate_domain`)."""
    is_hostname(hostname)
    if hostname != current and not domain_allowed(hostname):
        if not settings.PORTAL_DOMAINS:
            raise ValidationError(
                _("Portals cannot move: no domain is allowed (PORTAL_DOMAINS is not set).")
            )
        raise ValidationError(
            _("%(hostname)s is not among the domains portals may move to (PORTAL_DOMAINS).")
            % {"hostname": hostname}
        )


def may_move(user) -> bool:
    """Only superusers move a portal from the admin (operators, from the command line)."""
    return bool(user is not None and user.is_superuser)
