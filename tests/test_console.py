"""A quiet console: each refused request is one line without a traceback, and the API description warns of nothing."""

from __future__ import annotations

import logging
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils.module_loading import import_string

from tenants.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _lines_about(caplog, path: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if path in r.getMessage()]


def _client_for(role: str) -> tuple[Client, str]:
    membership = MembershipFactory(role=role)
    client = Client()
    client.force_login(membership.user)
    return client, membership.tenant.slug


def test_a_404_is_one_line(caplog):
    client, slug = _client_for(Role.ADMIN)
    path = f"/t/{slug}/no-such-screen/"
    with caplog.at_level(logging.INFO):
        assert client.get(path).status_code == 404
    [record] = _lines_about(caplog, path)
    assert (record.name, record.levelno) == ("django.request", logging.WARNING)
    assert record.exc_info is None and not record.exc_text


def test_a_403_is_one_line_without_a_traceback(caplog):
    client, slug = _client_for(Role.CUSTOMER)
    path = f"/t/{slug}/connections/new/"  # for admins only
    with caplog.at_level(logging.INFO):
        assert client.get(path).status_code == 403
    [record] = _lines_about(caplog, path)
    assert record.name == "django.request"
    assert record.exc_info is None and not record.exc_text
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback():
    """Only refusals lose the traceback: a 5xx record passes through with it."""
    request_logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = request_logger.makeRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s",
                                           ("/x/",), sys.exc_info(), extra={"status_code": 500})
    assert all(f.filter(record) for f in request_logger.filters)
    assert record.exc_info is not None


def _server_line(status: int, request_line: str) -> logging.LogRecord:
    return logging.LogRecord("django.server", logging.WARNING if status >= 400 else logging.INFO, __file__, 1,
                             '"%s" %s %s', (request_line, str(status), "1743"), None)


@pytest.mark.parametrize(("status", "request_line", "written"), [
    (200, "GET /t/demo/ HTTP/1.1", True),
    (302, "POST /accounts/login/ HTTP/1.1", True),
    (404, "GET /t/demo/nothing/ HTTP/1.1", False),  # django.request said it already
    (403, "GET /t/demo/connections/new/ HTTP/1.1", False),
    (500, "GET /t/demo/ HTTP/1.1", False),
    (429, "GET /sandbox/uniconta/Query/Get/Debtor HTTP/1.1", True),  # answered outside Django: only this line
    (404, "GET /sandbox/webcrm/Organisations/9 HTTP/1.1", True),
])
def test_the_development_server_writes_an_access_line_only_where_django_did_not(status, request_line, written):
    handler = settings.LOGGING["handlers"]["django.server"]
    [name] = [n for n in handler["filters"] if n != "webhook_tokens"]
    factory = dict(settings.LOGGING["filters"][name])
    access_filter = import_string(factory.pop("()"))(**factory)
    record = _server_line(status, request_line)
    record.status_code = status  # as django.core.servers.basehttp.WSGIRequestHandler.log_message sets it
    assert bool(access_filter.filter(record)) is written


def test_the_api_description_has_no_warnings(tmp_path):
    schema = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(schema))
    assert "/api/v1/t/{tenant_slug}/connections/{id}/" in schema.read_text()
