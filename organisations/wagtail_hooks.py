from wagtail import hooks

from .admin_views import MissionQueue, ModerationPanel, OrganisationQueue, moderated_sites


@hooks.register("register_admin_viewset")
def register_queues():
    return [OrganisationQueue(), MissionQueue()]


@hooks.register("construct_homepage_panels")
def add_moderation_panel(request, panels):
    if moderated_sites(request.user):
        panels.append(ModerationPanel(request))
