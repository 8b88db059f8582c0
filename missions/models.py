"""Missions offered by organisations, and volunteers' applications to them."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import Locale, Site, TranslatableMixin
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from organisations.models import Organisation

from .html import clean_description


def in_source_language() -> dict:
    """Missions point to the taxonomy's rows in the default language, whose slugs the search
    facets filter on; the translations of a domain or an activity only name it."""
    return {"locale": Locale.get_default()}


@register_snippet
class Domain(TranslatableMixin, models.Model):
    """A field of action (food aid, health...), shared by every portal: a mission shows on
    several and the search facets filter on its slug everywhere. Editors change its name and
    translate it (wagtail-localize); the slug, kept by every translation, is the operators'."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField()

    panels = [FieldPanel("name"), FieldPanel("slug", permission="missions.add_domain")]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("domain")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "locale"], name="domain_slug_per_language")
        ]

    def __str__(self):
        return self.name


@register_snippet
class Activity(TranslatableMixin, models.Model):
    """What a volunteer does within a domain; shared and translated as domains are."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField()
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="activities")

    panels = [
        FieldPanel("name"),
        FieldPanel("slug", permission="missions.add_activity"),
        FieldPanel("domain", permission="missions.add_activity"),
    ]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "locale"], name="activity_slug_per_language")
        ]

    def __str__(self):
        return self.name


class PostalCode(models.Model):
    """Postal code → coordinates, loaded from La Poste's official base (load_postal_codes)."""

    code = models.CharField(max_length=5, db_index=True)
    city = models.CharField(max_length=150)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "city"], name="postal_code_city")]

    def __str__(self):
        return f"{self.code} {self.city}"


class MissionQuerySet(models.QuerySet):
    def public(self, site=None):
        """Visible to volunteers: validated, organisation validated, not ended, room or list."""
        today = timezone.localdate()
        query = self.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today),
            status=Mission.Status.VALIDATED,
            organisation__status=Organisation.Status.VALIDATED,
        ).filter(Q(active_count__lt=models.F("places")) | Q(waiting_list=True))
        return query.filter(sites=site) if site is not None else query


class Mission(index.Indexed, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VALIDATED = "validated", _("Validated")
        REFUSED = "refused", _("Refused")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")
        SUSPENDED = "suspended", _("Suspended")

    class Audience(models.TextChoices):
        ALL = "all", _("Everyone")
        ADULTS = "adults", _("Adults")
        YOUNG = "young", _("Young people (16-25)")
        SENIORS = "seniors", _("Seniors")

    class Geocode(models.TextChoices):
        NONE = "", _("Not geocoded")
        OK = "ok", _("Geocoded")
        NOT_FOUND = "not_found", _("Address not found")
        FAILED = "failed", _("Geocoder unavailable")

    wagtail_reference_index_ignore = True

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="missions"
    )
    sites = models.ManyToManyField(Site, related_name="missions", verbose_name=_("portals"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(_("description"), help_text=_("Basic HTML is kept."))
    domain = models.ForeignKey(
        Domain,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to=in_source_language,
        verbose_name=_("domain"),
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to=in_source_language,
        verbose_name=_("activity"),
    )
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.ALL
    )
    is_remote = models.BooleanField(_("remote"), default=False)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    geocode_status = models.CharField(max_length=10, choices=Geocode.choices, blank=True)
    geocoded_at = models.DateTimeField(null=True, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    is_recurring = models.BooleanField(_("recurring"), default=False)
    schedule = models.CharField(
        _("schedule"), max_length=200, blank=True, help_text=_("e.g. every Tuesday, 9am-12pm")
    )
    places = models.PositiveIntegerField(_("places"), default=1)
    # Pending + accepted applications, kept by missions.services under the mission's row lock:
    # public listings and search filter on it without counting applications.
    active_count = models.PositiveIntegerField(default=0, editable=False)
    waiting_list = models.BooleanField(_("waiting list when full"), default=True)
    prerequisites = models.TextField(_("prerequisites"), blank=True)
    minimum_age = models.PositiveSmallIntegerField(_("minimum age"), default=16)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    refusal_reason = models.TextField(_("reason"), blank=True)
    # Full text (title A, organisation B, description C) in the `french_unaccent` configuration
    # (search/migrations): French stemming, accents ignored. Kept by search.index.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MissionQuerySet.as_manager()

    # For a deployment that moves text search to Wagtail's Elasticsearch/OpenSearch backend
    # (MISSION_SEARCH_BACKEND): what that index holds. PostgreSQL search uses search_vector.
    search_fields = [
        index.SearchField("title", boost=3),
        index.SearchField("description"),
        index.RelatedFields("organisation", [index.SearchField("name")]),
        index.FilterField("status"),
        index.FilterField("is_remote"),
    ]

    class Meta:
        verbose_name = _("mission")
        indexes = [
            models.Index(fields=["status", "end_date"], name="mission_status_end"),
            models.Index(fields=["latitude", "longitude"], name="mission_lat_lng"),
            GinIndex(fields=["search_vector"], name="mission_search"),
        ]

    def __str__(self):
        return self.title

    PLACE_FIELDS = ("is_remote", "address", "postal_code", "city")

    def save(self, *args, **kwargs):
        self.description = clean_description(self.description)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        """The canonical page, in the current language (/fr/missions/12-slug/)."""
        return reverse("mission_slug", kwargs={"pk": self.pk, "slug": self.slug})

    def clean(self):
        errors = {}
        if self.places is not None and self.places < 1:
            errors["places"] = _("At least one place.")
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date is before the start date.")
        if not self.is_remote and not (self.postal_code and self.city):
            errors["postal_code"] = _("An on-site mission needs its postal code and city.")
        if errors:
            raise ValidationError(errors)

    def active_applications(self):
        return self.applications.filter(status__in=Application.ACTIVE)

    @property
    def places_left(self) -> int:
        return max(self.places - self.active_count, 0)


class Application(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        WAITLISTED = "waitlisted", _("On the waiting list")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")
        NO_SHOW = "no_show", _("Did not come")

    class RefusalReason(models.TextChoices):
        FULL = "full", _("The mission is full")
        PROFILE = "profile", _("Profile does not match the prerequisites")
        DATES = "dates", _("Availability does not match")
        OTHER = "other", _("Other")

    class CancelReason(models.TextChoices):
        UNAVAILABLE = "unavailable", _("I am no longer available")
        OTHER_MISSION = "other_mission", _("I found another mission")
        PERSONAL = "personal", _("Personal reasons")
        MISTAKE = "mistake", _("I applied by mistake")
        OTHER = "other", _("Other")

    ACTIVE = (Status.PENDING, Status.ACCEPTED)  # they hold a place
    # The DSFR badge each status wears where a volunteer reads it.
    BADGES = {
        Status.ACCEPTED: "fr-badge--success",
        Status.DONE: "fr-badge--success",
        Status.PENDING: "fr-badge--info",
        Status.WAITLISTED: "fr-badge--new",
        Status.REFUSED: "fr-badge--error",
        Status.NO_SHOW: "fr-badge--error",
    }

    wagtail_reference_index_ignore = True

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="applications")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applications"
    )
    message = models.TextField(_("message"), blank=True, max_length=2000)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    refusal_reason = models.CharField(
        _("refusal reason"), max_length=20, choices=RefusalReason.choices, blank=True
    )
    reason_text = models.TextField(_("details"), blank=True)
    # Why the volunteer cancelled (their words, if any, are in reason_text). db_default: rows
    # inserted in bulk by SQL (generate_dataset) need not name the new columns.
    cancel_reason = models.CharField(
        _("cancellation reason"),
        max_length=20,
        choices=CancelReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    # The volunteer's answer to "did it happen?" after the mission (None: not answered). It
    # informs the association; the status (done / no-show) stays the managers' decision.
    volunteer_attended = models.BooleanField(_("the volunteer says it happened"), null=True)
    attendance_comment = models.TextField(
        _("volunteer's comment"), blank=True, max_length=1000, default="", db_default=""
    )
    attendance_answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        constraints = [
            models.UniqueConstraint(fields=["mission", "volunteer"], name="one_application")
        ]
        indexes = [models.Index(fields=["mission", "status", "created_at"], name="app_queue")]

    def __str__(self):
        return f"{self.volunteer} → {self.mission} ({self.status})"

    @property
    def status_badge(self) -> str:
        return self.BADGES.get(self.status, "")


class Favourite(models.Model):
    """A mission a volunteer saved to find it again (their space's favourites)."""

    wagtail_reference_index_ignore = True

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("favourite")
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "mission"], name="one_favourite")
        ]

    def __str__(self):
        return f"{self.volunteer} ☆ {self.mission}"


class SlotQuerySet(models.QuerySet):
    def upcoming(self):
        """Slots a volunteer may still choose: not started."""
        return self.filter(start__gt=timezone.now())

    def with_counts(self):
        """Each slot's booked places and waiting list, for places_left without a query each."""
        return self.annotate(
            booked=Count("bookings", filter=Q(bookings__status=Booking.Status.BOOKED)),
            waiting=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)),
        )


class Slot(models.Model):
    """A dated occurrence of a mission with places of its own (a Saturday morning, an evening
    round). A mission with slots counts capacity per slot; one without keeps one capacity,
    its own `places`. Booked places are counted under the mission's row lock, as for missions."""

    wagtail_reference_index_ignore = True

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    places = models.PositiveIntegerField(_("places"), default=1)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("slot")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="slot_ends_after"),
            models.CheckConstraint(condition=Q(places__gte=1), name="slot_has_places"),
        ]

    def __str__(self):
        return f"{self.mission} · {timezone.localtime(self.start):%Y-%m-%d %H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The slot ends before it starts.")})
        if self.places is not None and self.places < 1:
            raise ValidationError({"places": _("At least one place.")})

    @property
    def started(self) -> bool:
        return self.start <= timezone.now()

    @property
    def places_left(self) -> int:
        """From `with_counts()`'s annotation when there is one."""
        booked = getattr(self, "booked", None)
        if booked is None:
            booked = self.bookings.filter(status=Booking.Status.BOOKED).count()
        return max(self.places - booked, 0)


class Booking(models.Model):
    """An application's place on one slot: it holds a place (BOOKED), waits for one
    (WAITLISTED, first come first served per slot), or no longer counts (RELEASED: the
    application was refused, cancelled or is over)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Has a place")
        WAITLISTED = "waitlisted", _("On the waiting list")
        RELEASED = "released", _("Withdrawn")

    wagtail_reference_index_ignore = True

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="bookings")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="bookings")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.BOOKED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("booking")
        constraints = [
            models.UniqueConstraint(fields=["application", "slot"], name="one_booking_per_slot")
        ]
        indexes = [models.Index(fields=["slot", "status", "created_at"], name="booking_queue")]

    def __str__(self):
        return f"{self.application} @ {self.slot} ({self.status})"
