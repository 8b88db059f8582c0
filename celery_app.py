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
