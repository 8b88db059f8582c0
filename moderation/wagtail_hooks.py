from wagtail import hooks

from .admin_views import ReferentViewSet, ReportQueue


@hooks.register("register_admin_viewset")
def register_moderation():
    return [ReferentViewSet("referents"), ReportQueue()]
