"""What happens to an organisation: creation, moderation, team."""

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from wagtail.models import Site

from emails.outbox import queue_email
from moderation import history, scope
from portal import languages
from portal.slugs import save_with_unique_slug
from portal.workflow import MANAGER, MODERATOR
from tenants.models import PortalGroup
from tenants.portals import ensure_moderators_group as ensure_moderators_group  # re-exported
from tenants.portals import moderators_group_name as moderators_group_name  # re-exported

from .models import Invitation, Membership, Organisation, invitation_expiry
from .states import DECISIONS, ORGANISATION


def is_moderator(user, site: Site) -> bool:
    """Moderators act on their own portal's queue only (superusers on all)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(
        portal_role__site=site, portal_role__role=PortalGroup.Role.MODERATORS
    ).exists()


def role_for(user, organisation: Organisation, subject=None) -> str | None:
    """The role `user` plays on `organisation`, or on `subject` (one of its missions): a
    moderator of a département referent only on their départements' objects."""
    if is_moderator(user, organisation.site) and scope.covers(user, subject or organisation):
        return MODERATOR
    if user.is_authenticated and organisation.memberships.filter(user=user).exists():
        return MANAGER
    return None


@transaction.atomic
def create(*, site: Site, creator, **fields) -> Organisation:
    """Without a slug, one is made from the name, unique even for simultaneous creations."""
    organisation = Organisation(site=site, **fields)
    if fields.get("slug"):
        organisation.full_clean()
        organisation.save()
    else:
        organisation.full_clean(exclude=["slug"])
        save_with_unique_slug(organisation, organisation.name, fallback="organisation")
    Membership.objects.create(organisation=organisation, user=creator)
    return organisation


def email_team(
    organisation: Organisation, template: str, key: str, /, *, site, not_before=None, **context
):
    """One email to each manager of `organisation`. `key` names the change and the member is
    added to it: every manager is told, once per change, and a later change is a new email."""
    for membership in organisation.memberships.select_related("user"):
        user = membership.user
        queue_email(
            to=user.email,
            template=template,
            idempotency_key=f"{key}:{user.pk}",
            site=site,
            language=user.language,
            context={"first_name": user.first_name, **context},
            not_before=not_before,
        )


def notify_decision(organisation, subject, kind: str, reason: str, changed_at, /, **context):
    """A moderator's decision on `subject` (the organisation or one of its missions), told
    to the organisation's team; keyed by the moment of the change, so a second refusal after
    a resubmission is a new email."""
    key = f"{kind}-{subject.status}:{subject.pk}:{changed_at.timestamp()}"
    email_team(
        organisation,
        "moderation",
        key,
        kind=kind,
        decision=subject.status,
        reason=reason,
        **context,
    )


@transaction.atomic
def move(organisation: Organisation, target: str, user, reason: str = "") -> Organisation:
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    ORGANISATION.check(organisation.status, target, role_for(user, organisation) or "")
    history.record(organisation, organisation.status, target, user, reason)
    organisation.status = target
    organisation.status_changed_at = timezone.now()
    if target == Organisation.Status.REFUSED:
        organisation.refusal_reason = reason
    organisation.save(update_fields=["status", "status_changed_at", "refusal_reason"])
    if target in DECISIONS:
        notify_decision(
            organisation,
            organisation,
            "organisation",
            reason,
            organisation.status_changed_at,
            site=organisation.site,
            subject_name=organisation.name,
        )
    return organisation


def invite(organisation: Organisation, email: str, invited_by) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation, email=email.strip().lower(), invited_by=invited_by
        )
        send_invitation(invitation, invited_by, f"invitation:{invitation.pk}")
    return invitation


def send_invitation(invitation: Invitation, sender, idempotency_key: str) -> None:
    language = getattr(sender, "language", "fr")
    path = languages.reverse_in(language, "organisations:invitation", [invitation.token])
    queue_email(
        to=invitation.email,
        template="invitation",
        idempotency_key=idempotency_key,
        site=invitation.organisation.site,
        language=language,
        context={
            "organisation": invitation.organisation.name,
            "invited_by": sender.get_full_name() if sender else "",
            "action_path": path,
        },
    )


class InvitationForAnotherAddress(Exception):
    """The link was opened by an account whose email is not the invited one."""


def same_address(a: str, b: str) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


@transaction.atomic
def accept_invitation(token: str, user, site: Site) -> Membership | None:
    """Only on the portal of the organisation, whose email carried the link, and only by the
    account of the invited address: a forwarded or leaked link makes nobody else a manager.
    A refusal leaves the invitation usable by the right account."""
    invitations = Invitation.objects.select_for_update(of=("self",))
    invitation = invitations.filter(token=token, organisation__site=site).first()
    if invitation is None or not invitation.is_usable:
        return None
    if not same_address(user.email, invitation.email):
        raise InvitationForAnotherAddress
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    membership, _ = Membership.objects.get_or_create(
        organisation=invitation.organisation, user=user
    )
    return membership


# --- The team, managed by its managers (every member is a manager) -------------------------


class LastManager(Exception):
    """An organisation always keeps one manager, or nobody could run it again."""


def _locked_for(organisation: Organisation, manager) -> Organisation:
    """The organisation's row, locked, if `manager` belongs to it: two managers removing each
    other at the same instant are served one after the other, so one of them stays."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not organisation.memberships.filter(user=manager).exists():
        raise PermissionDenied
    return organisation


@transaction.atomic
def remove_member(organisation: Organisation, membership_id: int, manager) -> Membership:
    organisation = _locked_for(organisation, manager)
    membership = organisation.memberships.get(pk=membership_id)
    if organisation.memberships.count() <= 1:
        raise LastManager
    membership.delete()
    return membership


@transaction.atomic
def resend_invitation(organisation: Organisation, invitation_id: int, manager) -> Invitation:
    """A new link valid for 7 more days; the previous link stops working."""
    _locked_for(organisation, manager)
    invitation = Invitation.objects.select_for_update().get(
        pk=invitation_id, organisation=organisation, accepted_at__isnull=True
    )
    invitation.token = secrets.token_urlsafe()
    invitation.expires_at = invitation_expiry()
    invitation.save(update_fields=["token", "expires_at"])
    # One email per link: the key names the new token (hashed, keys are not secrets).
    digest = hashlib.sha256(invitation.token.encode()).hexdigest()[:16]
    key = f"invitation:{invitation.pk}:resent:{digest}"
    send_invitation(invitation, manager, key)
    return invitation


@transaction.atomic
def revoke_invitation(organisation: Organisation, invitation_id: int, manager) -> None:
    """Deleted, so its link is an invalid link from now on."""
    _locked_for(organisation, manager)
    Invitation.objects.get(
        pk=invitation_id, organisation=organisation, accepted_at__isnull=True
    ).delete()


@transaction.atomic
def hand_over(organisation: Organisation, membership_id: int, manager) -> Membership:
    """`manager` leaves the organisation to another member of its team, who becomes its
    contact and is told by email. Under the organisation's row lock, like removals, so two
    managers handing over to each other at the same instant leave one of them in charge."""
    organisation = _locked_for(organisation, manager)
    successor = organisation.memberships.select_related("user").get(pk=membership_id)
    if successor.user_id == manager.pk:
        raise LastManager  # handing over to oneself would leave nobody else in charge
    organisation.memberships.filter(user=manager).delete()
    organisation.contact_email = successor.user.email
    organisation.save(update_fields=["contact_email"])
    user = successor.user
    path = languages.reverse_in(user.language, "organisations:dashboard", [organisation.pk])
    queue_email(
        to=user.email,
        template="handover",
        idempotency_key=f"handover:{organisation.pk}:{manager.pk}:{user.pk}:{timezone.now():%s%f}",
        site=organisation.site,
        language=user.language,
        context={
            "first_name": user.first_name,
            "organisation": organisation.name,
            "previous": manager.get_full_name() or manager.email,
            "action_path": path,
        },
    )
    return successor
