"""Moderation in the Wagtail admin: queues per tenant, approve or refuse with a reason."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import ListingButton
from wagtail.models import Site

from dashboards import panels as dashboard_panels
from missions import services as mission_services
from missions.models import Mission
from missions.states import DECISIONS as MISSION_DECISIONS
from missions.states import MISSION
from moderation import history, scope
from portal.workflow import MODERATOR, TransitionNotAllowed

from . import services
from .models import Organisation
from .states import DECISIONS as ORGANISATION_DECISIONS
from .states import ORGANISATION


def moderated_sites(user):
    if user.is_superuser:
        return Site.objects.all()
    return [site for site in Site.objects.all() if services.is_moderator(user, site)]


class ReasonForm(forms.Form):
    """A moderator's decision (the workflow's DECISIONS); a refusal says why."""

    decision = forms.ChoiceField(label=gettext_lazy("Decision"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required for a refusal: the organisation reads it."),
    )

    def __init__(self, *args, decisions, statuses, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(statuses.choices)
        self.fields["decision"].choices = [(d, labels[d]) for d in decisions]
        self.refused = statuses.REFUSED

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.refused and not data.get("reason", "").strip():
            self.add_error("reason", _("Say why, the organisation will read it."))
        return data


def queue_queryset(model, user):
    """What a moderator may see at all: the items of the portals they moderate, and of their
    départements only where they are a referent (moderation.scope). Every queue view (list,
    inspect, moderate, notes) and count starts from here, so anything else is a 404."""
    return scope.visible(model._default_manager.all(), user)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Private note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Read by moderators only, never by the organisation."),
    )


def moderators_context(obj) -> dict:
    """What moderators alone read about `obj`: its states' history and their notes."""
    return {"history": history.history(obj), "notes": history.notes(obj)}


class QueueIndexView(generic.IndexView):
    waiting = ()

    def get_base_queryset(self):
        scoped = queue_queryset(self.model, self.request.user)
        return super().get_base_queryset().filter(pk__in=scoped.values("pk"))

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status in self.waiting:
            url = reverse(f"{self.model._meta.model_name}_queue:moderate", args=[instance.pk])
            buttons.append(ListingButton(_("Moderate"), url=url, icon_name="tick", priority=1))
        return buttons


class QueueInspectView(generic.InspectView):
    template_name = "organisations/admin/inspect.html"

    def get_object(self, queryset=None):
        return get_object_or_404(queue_queryset(self.model, self.request.user), pk=self.pk)

    def get_context_data(self, **kwargs):
        name = self.model._meta.model_name
        return super().get_context_data(
            **moderators_context(self.object),
            note_form=NoteForm(),
            note_url=reverse(f"{name}_queue:note", args=[self.object.pk]),
            **kwargs,
        )


class MissionInspectView(QueueInspectView):
    """A mission as moderators read it, with its slots (dates and places) after its fields."""

    def get_fields(self):
        return [*super().get_fields(), "slots"]

    def get_field_label(self, field_name, field):
        if field_name == "slots":
            return _("Slots")
        return super().get_field_label(field_name, field)

    def get_slots_display_value(self):
        slots = self.object.slots.with_counts()
        return (
            " · ".join(
                f"{mission_services.slot_label(slot)} ({slot.booked}/{slot.places})"
                for slot in slots
            )
            or "-"
        )


class QueueViewSet(ModelViewSet):
    """Read and moderate; editing is the organisation's own business (its dashboard)."""

    add_to_admin_menu = True
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = QueueIndexView
    inspect_view_class = QueueInspectView
    list_filter = ["status"]
    form_fields = ["status"]  # unused: no add or edit view

    @classmethod
    def waiting(cls) -> list[str]:
        """What waits for a moderator: what they may both validate and refuse."""
        return cls.workflow.sources(*cls.decisions, role=MODERATOR)

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            add_url_name=None, edit_url_name=None, waiting=self.waiting(), **kwargs
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(edit_url_name=None, **kwargs)

    def get_urlpatterns(self):
        keep = {"index", "index_results", "inspect"}
        return [p for p in super().get_urlpatterns() if p.name in keep] + [
            path("moderate/<int:pk>/", self.moderate_view, name="moderate"),
            path("note/<int:pk>/", self.note_view, name="note"),
        ]

    def scoped(self, request, pk):
        return get_object_or_404(queue_queryset(self.model, request.user), pk=pk)

    def note_view(self, request, pk):
        """A private note on an item of this moderator's queue (POST only)."""
        obj = self.scoped(request, pk)  # another portal's or département's item: 404
        if request.method != "POST":
            return redirect(self.get_url_name("inspect"), pk)
        form = NoteForm(request.POST)
        if form.is_valid():
            history.add_note(obj, request.user, form.cleaned_data["text"])
            messages.success(request, _("Note saved."))
            return redirect(self.get_url_name("inspect"), pk)
        return TemplateResponse(
            request,
            "organisations/admin/inspect.html",
            {**moderators_context(obj), "object": obj, "note_form": form, "note_url": request.path},
            status=400,
        )

    def moderate_view(self, request, pk):
        obj = self.scoped(request, pk)  # another tenant's item: 404
        form = ReasonForm(
            request.POST or None,
            decisions=self.decisions,
            statuses=self.model.Status,
        )
        if request.method == "POST" and form.is_valid():
            try:
                self.decide(
                    obj, form.cleaned_data["decision"], request.user, form.cleaned_data["reason"]
                )
            except TransitionNotAllowed:
                messages.error(request, _("This item is not waiting for moderation."))
            else:
                messages.success(request, _("Decision recorded; the organisation is emailed."))
            return redirect(self.get_url_name("index"))
        return TemplateResponse(
            request,
            "organisations/admin/moderate.html",
            {
                **moderators_context(obj),
                "object": obj,
                "form": form,
                "index_url": reverse(self.get_url_name("index")),
            },
            status=400 if request.method == "POST" else 200,
        )


class OrganisationQueue(QueueViewSet):
    model = Organisation
    name = "organisation_queue"
    icon = "group"
    menu_label = gettext_lazy("Organisations")
    menu_order = 210
    workflow, decisions = ORGANISATION, ORGANISATION_DECISIONS
    search_fields = ["name", "rna", "siret", "city"]
    list_display = [
        "name",
        "type",
        "city",
        "status",
        Column("site", label=gettext_lazy("site")),
        DateColumn("created_at", label=gettext_lazy("created at")),
    ]

    def decide(self, obj, decision, user, reason):
        services.move(obj, decision, user, reason)


class MissionQueue(QueueViewSet):
    model = Mission
    name = "mission_queue"
    inspect_view_class = MissionInspectView
    icon = "tasks"
    menu_label = gettext_lazy("Missions")
    menu_order = 211
    workflow, decisions = MISSION, MISSION_DECISIONS
    search_fields = ["title", "city"]
    list_display = [
        "title",
        Column("organisation", label=gettext_lazy("organisation")),
        "city",
        "status",
        DateColumn("created_at", label=gettext_lazy("created at")),
    ]

    def decide(self, obj, decision, user, reason):
        mission_services.move_mission(obj, decision, user, reason)


class ModerationPanel(Component):
    """Dashboard: what waits for moderation, and the last 30 days as charts (dashboards),
    over the moderator's portals or, for a referent, their départements."""

    name = "moderation"
    order = 50
    template_name = "organisations/admin/panel.html"
    media = dashboard_panels.MEDIA

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        return {
            # A referent's counts are their départements' (the queue's own scope).
            "organisations": queue_queryset(Organisation, self.request.user)
            .filter(status__in=OrganisationQueue.waiting())
            .count(),
            "missions": queue_queryset(Mission, self.request.user)
            .filter(status__in=MissionQueue.waiting())
            .count(),
            "sections": dashboard_panels.moderator_sections(self.request.user),
        }
