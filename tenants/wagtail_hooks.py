from wagtail import hooks

from .portals import pages_within_reach
from .views import SwitchLogViewSet


@hooks.register("register_admin_viewset")
def register_switch_log():
    return SwitchLogViewSet()


@hooks.register("construct_page_chooser_queryset")
def page_chooser_within_reach(pages, request):
    return pages_within_reach(pages, request.user)
