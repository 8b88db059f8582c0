"""`GET /healthz`: the load balancer's and the operator's view of the backing services.

Built on django-health-check's view and checks (it runs them concurrently with a timeout);
we only add a broker check and shape the answer as `{"database": "ok", "cache": "ok",
"sessions": "ok", "broker": "ok"}` with 503 when a part fails, which is what the compose
healthcheck and the PaaS probe read. With the signup stream on, `"signups"` adds its backlog
(length, oldest entry's age, "ok" or "degraded"). Each Redis is named on its own: they fail
apart and cost different things (README, "Reliability").
"""

import asyncio
import dataclasses
import datetime

import redis
from django.conf import settings
from django.http import JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from accounts import signup_stream
from celery_app import app as celery_app


@dataclasses.dataclass
class Broker(HealthCheck):
    """Opens a connection to the Celery broker: workers are useless if we cannot enqueue."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=2), repr=False
    )

    def run(self):
        if celery_app.conf.task_always_eager:
            return  # Embedded mode: tasks run in-process, there is no broker to reach.
        try:
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:  # kombu raises transport-specific errors
            raise ServiceUnavailable(type(exc).__name__) from exc


def part(check) -> str:
    if isinstance(check, Cache):
        return "cache" if check.alias == "default" else check.alias
    return {Database: "database", Broker: "broker"}[type(check)]


class HealthView(HealthCheckView):
    checks = (Database, Cache, (Cache, {"alias": "sessions"}), Broker)

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        body = {
            part(result.check): "ok" if result.error is None else str(result.error)
            for result in self.results
        }
        failing = any(result.error for result in self.results)
        if settings.SIGNUP_STREAM:
            body["signups"] = await asyncio.to_thread(signup_queue)
        return JsonResponse(body, status=503 if failing else 200)


def signup_queue() -> dict:
    """The signup stream's backlog. "degraded" past SIGNUP_STREAM_MAX_LAG is reported, not a
    503: the signup page keeps accepting, and pulling web processes out of the load balancer
    would not write one account faster."""
    try:
        return signup_stream.stats()
    except redis.RedisError as error:
        return {"status": f"unavailable: {type(error).__name__}"}
