from django.conf import settings
from wagtail import hooks

from .admin_panels import SignupQueuePanel


@hooks.register("construct_homepage_panels")
def add_signup_queue_panel(request, panels):
    """Superusers see the signup stream's backlog (the figure /healthz reports)."""
    if settings.SIGNUP_STREAM and request.user.is_superuser:
        panels.insert(0, SignupQueuePanel())
