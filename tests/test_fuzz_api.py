"""schemathesis against /api/v1/schema: every operation, generated inputs, no 5xx, and every
response conforms to the schema it documents."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from tests.factories import HOST

# Not positive_data_acceptance: a schema-valid search can still name an unknown activity or
# postal code, which the API rightly answers 400 with the fields named.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture
def in_process():
    """Keep the test's database connection across in-process requests (as Django's client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(demo, in_process):
    return schemathesis.openapi.from_wsgi("/api/v1/schema", in_process, headers={"Host": HOST})


@pytest.mark.django_db
def test_every_api_operation_answers_within_its_schema(api_schema):
    """Each operation in turn, with hypothesis-generated cases (schemathesis' own checks:
    no 5xx, status codes, content types and bodies as documented)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 3  # list, detail, apply (and whatever comes next)
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def answers_within_schema(case):
            case.call_and_validate(headers={"Host": HOST}, checks=CHECKS)

        answers_within_schema()
