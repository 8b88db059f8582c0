from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.models import Site

from .forms import NewPortalForm
from .models import SwitchChange
from .portals import create_portal


class SwitchLogViewSet(ModelViewSet):
    """Read-only: every change of a portal's switches, newest first."""

    model = SwitchChange
    icon = "history"
    menu_label = _("Switch log")
    add_to_settings_menu = True
    name = "switch-log"
    copy_view_enabled = False
    list_filter = ["site", "field", "source"]
    list_display = [
        DateColumn("changed_at", label=_("when")),
        Column("site", label=_("site")),
        "field",
        "old_value",
        "new_value",
        Column("user", label=_("user")),
        "source",
    ]
    form_fields = ["field"]  # unused: no add or edit view is exposed

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(add_url_name=None, edit_url_name=None, **kwargs)

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name in {"index", "index_results"}]


class NewPortalView(WagtailAdminTemplateMixin, FormView):
    """Superusers make a whole portal from the admin, as `manage.py create_portal` does."""

    template_name = "wagtailadmin/generic/form.html"
    form_class = NewPortalForm
    page_title = _("New portal")
    header_icon = "site"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            action_url=reverse("new_portal"),
            submit_button_label=_("Create the portal"),
            **kwargs,
        )

    def form_valid(self, form):
        current = Site.find_for_request(self.request)
        try:
            site = create_portal(
                hostname=form.cleaned_data["hostname"],
                name=form.cleaned_data["name"],
                copy_from=form.cleaned_data["copy_from"],
                port=current.port if current else 80,
            )
        except ValidationError as exc:
            form.add_error("hostname", exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("Portal %(name)s created, with its editors' and moderators' groups.")
            % {"name": site.site_name},
        )
        return redirect("wagtailsites:edit", site.pk)
