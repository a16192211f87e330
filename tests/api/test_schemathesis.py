"""Property-based run of the whole REST API against its own OpenAPI schema (schemathesis, in-process).

For every operation, generated requests (valid and invalid) from an administrator of a real tenant
must never cause a server error, and every documented answer must match its schema.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import content_type_conformance, not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance


def api_description() -> dict:
    """The OpenAPI description /api/schema/ serves to a signed-in user, made in-process (it needs a login)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


app = get_wsgi_application()
schema = schemathesis.openapi.from_dict(api_description())
schema.app = app
schema.location = "/api/schema/?format=json"


@pytest.fixture
def admin_token(world):
    return Token.objects.create(user=world.admin).key


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: requests served in-process must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_honours_its_schema(case, world, admin_token):
    if "tenant_slug" in (case.path_parameters or {}):
        case.path_parameters["tenant_slug"] = world.tenant.slug
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"},
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
