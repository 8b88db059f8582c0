"""Accounts: one user model for volunteers, association members, editors and staff."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site


def normalize_email(email: str) -> str:
    """The whole address in lower case: a database CHECK keeps every row that way."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def create_user(self, email, password=None, **extra):
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)  # None: an unusable password, no hashing cost
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)
    signup_site = models.ForeignKey(
        Site,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed up on"),
    )
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=10, default="fr")
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    email_confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True)
    # Set by the public signup only: the purge of never-confirmed accounts deletes these and
    # nothing else (accounts made in the admin have no confirmation to wait for).
    signed_up_publicly = models.BooleanField(
        _("signed up on a public form"), default=False, db_default=False, editable=False
    )
    pending_email = models.EmailField(_("new email awaiting confirmation"), blank=True)
    availability = models.JSONField(_("availability"), default=list, blank=True)
    interests = models.JSONField(_("domains of interest"), default=list, blank=True)
    # Bumped to sign the user out of every session at once (see _get_session_auth_hash).
    auth_epoch = models.PositiveIntegerField(default=0)

    wagtail_reference_index_ignore = True  # accounts are not content

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        constraints = [
            # With the unique index on email, this makes uniqueness case-insensitive at the
            # database level for the price of one index.
            models.CheckConstraint(condition=Q(email=Lower("email")), name="user_email_lowercase"),
        ]
        indexes = [
            models.Index(
                fields=["date_joined"],
                condition=Q(email_confirmed_at__isnull=True),
                name="user_unconfirmed_by_age",
            ),
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def _get_session_auth_hash(self, secret=None):
        key_salt = "accounts.User._get_session_auth_hash"
        value = f"{self.password}:{self.auth_epoch}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()
