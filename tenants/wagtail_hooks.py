from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .portals import pages_within_reach
from .views import NewPortalView, SwitchLogViewSet


@hooks.register("register_admin_viewset")
def register_switch_log():
    return SwitchLogViewSet()


@hooks.register("construct_page_chooser_queryset")
def page_chooser_within_reach(pages, request):
    return pages_within_reach(pages, request.user)


@hooks.register("register_admin_urls")
def register_new_portal_url():
    return [path("portals/new/", NewPortalView.as_view(), name="new_portal")]


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_settings_menu_item")
def register_new_portal_menu_item():
    return SuperuserMenuItem(
        _("New portal"), reverse("new_portal"), name="new-portal", icon_name="site", order=601
    )
