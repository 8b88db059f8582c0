from wagtail import hooks

from .panels import StaffPanel


@hooks.register("construct_homepage_panels")
def add_staff_panel(request, panels):
    if request.user.is_superuser:
        panels.append(StaffPanel())
