"""Admin dashboard panels of the accounts app."""

import redis
from wagtail.admin.ui.components import Component

from . import signup_stream


class SignupQueuePanel(Component):
    """The signup stream's backlog, and a warning once it lags (SIGNUP_STREAM_MAX_LAG)."""

    name = "signup_queue"
    order = 10
    template_name = "accounts/admin/signup_queue_panel.html"

    def get_context_data(self, parent_context=None):
        try:
            queue = signup_stream.stats()
        except redis.RedisError:
            queue = {"status": "unavailable", "length": None}
        return {"queue": queue}
