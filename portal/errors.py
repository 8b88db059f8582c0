"""Error views: a backing service that is away answers 503 with Retry-After, not 500; a refusal
is a 403 page in the look of the part of the site it happened in.

Django calls `handler500` inside the `except` block of whatever raised, anywhere in the stack
(view, middleware, template, admin), so this one place sees the exception and can tell an
outage (Redis or PostgreSQL unreachable, PostgreSQL restarting) from a bug. Everything else
keeps Django's plain 500.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from redis.exceptions import RedisError

from portal.sessions import SessionStoreUnavailable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
# The launch rehearsal restarted PostgreSQL under load: pages answered 500 without Retry-After.
# OperationalError is a connection refused, dropped or a server shutting down (a wrong query is a
# ProgrammingError or a DataError, and stays a 500).
UNAVAILABLE = (SessionStoreUnavailable, RedisError, OperationalError, InterfaceError)


def server_error(request, template_name="500.html"):
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE):
        return service_unavailable(request)
    return defaults.server_error(request, template_name)


def service_unavailable(request):
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": "unavailable", "message": "Service briefly unavailable, retry shortly."},
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def permission_denied(request, exception=None):
    """403 in the look of where it happened: the admin's under /admin/ (a staff member trying
    another portal's page), JSON under /api/, the portal's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "forbidden", "message": "You may not do this."}, status=403)
    admin = request.path.startswith("/admin/")
    return defaults.permission_denied(
        request, exception, template_name="403_admin.html" if admin else "403.html"
    )
