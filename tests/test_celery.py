import pytest

from portal.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_task_round_trips_through_redis_broker_and_a_real_worker(celery_worker):
    result = ping.delay("bonjour")
    assert result.get(timeout=20) == "bonjour"
    assert "portal.tasks.ping" in celery_worker.log_path.read_text()
