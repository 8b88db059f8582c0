"""What happens to an organisation: creation, moderation, team."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from wagtail.models import Site

from emails.outbox import queue_email
from portal.slugs import save_with_unique_slug

from .models import Invitation, Membership, Organisation
from .states import MANAGER, MODERATOR, ORGANISATION


def moderators_group_name(site: Site) -> str:
    return f"Modérateurs · {site.site_name or site.hostname}"


def is_moderator(user, site: Site) -> bool:
    """Moderators act on their own portal's queue only (superusers on all)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=moderators_group_name(site)).exists()


def ensure_moderators_group(site: Site) -> Group:
    from django.contrib.auth.models import Permission

    group, _ = Group.objects.get_or_create(name=moderators_group_name(site))
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label__in=["organisations", "missions"],
            codename__in=[
                "view_organisation",
                "change_organisation",
                "view_mission",
                "change_mission",
            ],
        ),  # fmt: skip
    )
    return group


def role_for(user, organisation: Organisation) -> str | None:
    if is_moderator(user, organisation.site):
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


@transaction.atomic
def move(organisation: Organisation, target: str, user, reason: str = "") -> Organisation:
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    ORGANISATION.check(organisation.status, target, role_for(user, organisation) or "")
    organisation.status = target
    organisation.status_changed_at = timezone.now()
    if target == Organisation.Status.REFUSED:
        organisation.refusal_reason = reason
    organisation.save(update_fields=["status", "status_changed_at", "refusal_reason"])
    if target in (Organisation.Status.VALIDATED, Organisation.Status.REFUSED):
        for membership in organisation.memberships.select_related("user"):
            queue_email(
                to=membership.user.email,
                template="moderation",
                idempotency_key=f"organisation-{target}:{organisation.pk}:{organisation.status_changed_at.timestamp()}:{membership.user_id}",
                site=organisation.site,
                language=membership.user.language,
                context={
                    "first_name": membership.user.first_name,
                    "subject_name": organisation.name,
                    "kind": "organisation",
                    "decision": target,
                    "reason": reason,
                },
            )
    return organisation


def invite(organisation: Organisation, email: str, invited_by) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation, email=email.strip().lower(), invited_by=invited_by
        )
        queue_email(
            to=invitation.email,
            template="invitation",
            idempotency_key=f"invitation:{invitation.pk}",
            site=organisation.site,
            language=getattr(invited_by, "language", "fr"),
            context={
                "organisation": organisation.name,
                "invited_by": invited_by.get_full_name() if invited_by else "",
                "action_path": f"/fr/espace-association/invitation/{invitation.token}/",
            },
        )
    return invitation


@transaction.atomic
def accept_invitation(token: str, user, site: Site) -> Membership | None:
    """Only on the portal of the organisation, whose email carried the link."""
    invitations = Invitation.objects.select_for_update(of=("self",))
    invitation = invitations.filter(token=token, organisation__site=site).first()
    if invitation is None or not invitation.is_usable:
        return None
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    membership, _ = Membership.objects.get_or_create(
        organisation=invitation.organisation, user=user
    )
    return membership
