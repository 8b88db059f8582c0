from wagtail import hooks

from .views import SwitchLogViewSet


@hooks.register("register_admin_viewset")
def register_switch_log():
    return SwitchLogViewSet()
