"""The Celery application: `celery -A celery_app worker|beat`.

Configuration comes from Django settings (CELERY_* names), so the broker URL, eager mode and
beat schedule follow the same environment variables as the web process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def connect_through_sentinel(sender, **kwargs):
    """Celery prefers a CELERY_BROKER_URL environment variable to the setting of that name;
    behind Sentinel the setting is that variable's redis:// URL turned into kombu's
    sentinel:// form (portal.settings.base.celery_broker), and must be the one used."""
    url = sender.conf.get("broker_url") or ""
    if url.startswith("sentinel://"):
        sender.conf.broker_read_url = sender.conf.broker_write_url = url
