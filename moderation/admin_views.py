"""Superusers name département referents; moderators work visitors' reports of missions."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from accounts.models import User
from portal.workflow import TransitionNotAllowed
from tenants.models import PortalGroup

from . import reports, scope
from .models import Referent, Report


class ReferentForm(WagtailAdminModelForm):
    """Only a member of a portal's moderators group can be scoped on that portal."""

    class Meta:
        model = Referent
        fields = ["user", "site", "departement"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        moderators = User.objects.filter(
            groups__portal_role__role=PortalGroup.Role.MODERATORS
        ).distinct()
        self.fields["user"].queryset = moderators.order_by("email")

    def clean(self):
        data = super().clean()
        user, site = data.get("user"), data.get("site")
        if user and site and site.pk not in scope.moderated_site_ids(user):
            self.add_error("user", _("This person is not a moderator of this portal."))
        return data


class ReferentViewSet(ModelViewSet):
    """Who works which département (no row for a moderator: the whole portal). The model's
    permissions, which only superusers hold unless granted, guard it."""

    model = Referent
    form_class = ReferentForm
    icon = "site"
    menu_label = gettext_lazy("Département referents")
    add_to_settings_menu = True
    copy_view_enabled = False
    list_display = ["user", "site", "departement"]
    list_filter = ["site", "departement"]

    def get_form_class(self, for_update=False):
        return ReferentForm


class SuspendForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Message to the association (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Without one, the association reads the report's reason."),
    )


class ModeratorsPolicy(ModelPermissionPolicy):
    """Every moderator reads and settles reports (which ones: moderation.scope)."""

    def user_has_permission(self, user, action):
        if action in ("view", "change"):
            return bool(scope.moderated_site_ids(user))
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(Report, ModeratorsPolicy(Report))


class ReportIndexView(generic.IndexView):
    def get_base_queryset(self):
        scoped = scope.visible(Report.objects.all(), self.request.user)
        return (
            super()
            .get_base_queryset()
            .filter(pk__in=scoped.values("pk"))
            .select_related("mission__organisation")
        )


class ReportInspectView(generic.InspectView):
    template_name = "moderation/admin/report.html"

    def get_object(self, queryset=None):
        return get_object_or_404(scope.visible(Report.objects.all(), self.request.user), pk=self.pk)

    def get_context_data(self, **kwargs):
        report = self.object
        return super().get_context_data(
            suspend_form=SuspendForm(),
            suspend_url=reverse("report_queue:suspend", args=[report.pk]),
            dismiss_url=reverse("report_queue:dismiss", args=[report.pk]),
            others=Report.objects.filter(mission=report.mission).exclude(pk=report.pk),
            is_open=report.status == Report.Status.OPEN,
            **kwargs,
        )


class ReportQueue(ModelViewSet):
    """Visitors' reports of missions, in the moderators' queue: suspend the mission (its
    team is told why) or dismiss the report."""

    model = Report
    name = "report_queue"
    icon = "warning"
    menu_label = gettext_lazy("Reports")
    menu_order = 212
    add_to_admin_menu = True
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = ReportIndexView
    inspect_view_class = ReportInspectView
    list_filter = ["status", "reason"]
    form_fields = ["status"]  # unused: no add or edit view
    list_display = [
        Column("mission", label=gettext_lazy("mission")),
        "reason",
        "status",
        DateColumn("created_at", label=gettext_lazy("reported at")),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(add_url_name=None, edit_url_name=None, **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(edit_url_name=None, **kwargs)

    def get_urlpatterns(self):
        keep = {"index", "index_results", "inspect"}
        return [p for p in super().get_urlpatterns() if p.name in keep] + [
            path("suspend/<int:pk>/", self.suspend_view, name="suspend"),
            path("dismiss/<int:pk>/", self.dismiss_view, name="dismiss"),
        ]

    def scoped(self, request, pk):
        return get_object_or_404(scope.visible(Report.objects.all(), request.user), pk=pk)

    def suspend_view(self, request, pk):
        report = self.scoped(request, pk)  # another portal's or département's report: 404
        if request.method != "POST":
            return redirect("report_queue:inspect", pk)
        form = SuspendForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The message is too long."))
            return redirect("report_queue:inspect", pk)
        try:
            reports.suspend(report, request.user, form.cleaned_data["message"])
        except TransitionNotAllowed:
            messages.error(request, _("This mission is not online: it cannot be suspended."))
        else:
            messages.success(request, _("Mission suspended; the association is emailed."))
        return redirect("report_queue:index")

    def dismiss_view(self, request, pk):
        report = self.scoped(request, pk)
        if request.method == "POST":
            reports.dismiss(report, request.user)
            messages.success(request, _("Report dismissed."))
        return redirect("report_queue:index")
