from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.viewsets.model import ModelViewSet

from .models import SwitchChange


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
