"""The admin home page's charts: every portal's for superusers (StaffPanel), a moderator's
portals, or their départements of it, for moderators (organisations' ModerationPanel)."""

from django.forms import Media
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component
from wagtail.models import Site

from moderation import scope

from .charts import bar_chart
from .figures import outbox_state, portal_series

TITLES = {
    "signups": _("Signups"),
    "confirmations": _("Confirmed emails"),
    "applications": _("Applications"),
    "emails": _("Emails sent"),
    "failures": _("Emails failed"),
}
MEDIA = Media(css={"all": ["dashboards/charts.css"]})


def sections(scopes: dict[int, set[str]]) -> list[dict]:
    """One section per portal of `scopes` ({site id: départements, empty for all of it}):
    its name, its départements and a chart per series."""
    found = []
    for site in Site.objects.filter(pk__in=scopes).order_by("site_name", "hostname"):
        departements = sorted(scopes[site.pk])
        charts = []
        for series in portal_series(site.pk, departements):
            title = TITLES[series.name]
            charts.append(
                {
                    "title": title,
                    "total": series.total,
                    "svg": bar_chart(series.points, label=str(title), kind=series.name),
                }
            )
        found.append({"site": site, "departements": departements, "charts": charts})
    return found


def moderator_sections(user) -> list[dict]:
    """What a moderator's charts cover: their portals, a referent's départements only."""
    return sections(scope.scopes(user))


class StaffPanel(Component):
    """Superusers: every portal's last 30 days and the outbox."""

    name = "portal_activity"
    order = 40
    template_name = "dashboards/staff_panel.html"
    media = MEDIA

    def get_context_data(self, parent_context=None):
        scopes = {pk: set() for pk in Site.objects.values_list("pk", flat=True)}
        return {"sections": sections(scopes), "outbox": outbox_state()}
