"""Webhook tokens never reach a log: Django's request and server loggers, the root, tracebacks, gunicorn."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from config.logredact import RedactingGunicornLogger, WebhookTokenFilter, redact

TOKEN = "Zq3-kT9_secretTOKENvalue0123456789abcdefghij"


def test_redact_keeps_the_system_and_drops_the_token():
    assert redact(f"Not Found: /hooks/webcrm/{TOKEN}/") == "Not Found: /hooks/webcrm/…/"
    assert redact(f"https://synkro.example.com/hooks/uniconta/{TOKEN}?Table=Debtor&Argument=s3cret&RowId=1") == (
        "https://synkro.example.com/hooks/uniconta/…?Table=Debtor&Argument=…&RowId=1")
    assert redact("GET /t/nordlys/integrations/4/ HTTP/1.1") == "GET /t/nordlys/integrations/4/ HTTP/1.1"


def _handlers_reached_by(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers a record logged on ``logger`` passes through, as logging's own propagation walks them."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += [h for h in current.handlers if not type(h).__module__.startswith("_pytest")]
        current = current.parent if current.propagate else None  # type: ignore[assignment]
    return found


@pytest.mark.parametrize("name", ["django.request", "django.server", "django.security.DisallowedHost",
                                  "integrations.webhooks", "django-q", "synkro.anything"])
def test_every_handler_synkro_configures_carries_the_filter(name):
    handlers = _handlers_reached_by(logging.getLogger(name))
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, WebhookTokenFilter) for f in handler.filters), handler


@contextmanager
def captured(logger_name: str) -> Iterator[io.StringIO]:
    """What the configured handlers reached from ``logger_name`` write, in one buffer."""
    buffer = io.StringIO()
    handlers = [h for h in _handlers_reached_by(logging.getLogger(logger_name)) if isinstance(h, logging.StreamHandler)]
    assert handlers
    previous = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def test_a_refused_webhook_leaves_no_token_in_the_request_log(client, world):
    with captured("django.request") as log:
        response = client.post(f"/hooks/webcrm/{world.integration.webhook_token}/", data="not json",
                               content_type="application/json", secure=True)
        client.post(f"/hooks/webcrm/{TOKEN}/", data="{}", content_type="application/json", secure=True)
    assert response.status_code == 400
    text = log.getvalue()
    assert "Bad Request: /hooks/webcrm/…/" in text and "Not Found: /hooks/webcrm/…/" in text
    assert world.integration.webhook_token not in text and TOKEN not in text


def test_the_development_servers_request_lines_are_redacted():
    with captured("django.server") as log:
        # An accepted call: the access line of a refused one is left to django.request (config/requestlog.py).
        logging.getLogger("django.server").info('"%s" %s %s', f"POST /hooks/vismanet/{TOKEN}/ HTTP/1.1",
                                                200, 97, extra={"status_code": 200})
    assert '"POST /hooks/vismanet/…/ HTTP/1.1" 200 97' in log.getvalue()
    assert TOKEN not in log.getvalue()


def test_tracebacks_and_objects_logged_are_redacted_too():
    class Url:
        def __str__(self) -> str:
            return f"https://synkro.example.com/hooks/webcrm/{TOKEN}/"

    with captured("integrations.webhooks") as log:
        try:
            raise RuntimeError(f"registering https://synkro.example.com/hooks/webcrm/{TOKEN}/ failed")
        except RuntimeError:
            logging.getLogger("integrations.webhooks").exception("Could not register %s (%d tries)", Url(), 3)
    text = log.getvalue()
    assert TOKEN not in text
    assert "Could not register https://synkro.example.com/hooks/webcrm/…/ (3 tries)" in text
    assert "RuntimeError: registering https://synkro.example.com/hooks/webcrm/…/ failed" in text


def test_gunicorns_error_and_access_logs_are_redacted(tmp_path):
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = RedactingGunicornLogger(config)
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/hooks/uniconta/{TOKEN}/?Table=Debtor&Argument=s3cret",
               "PATH_INFO": f"/hooks/uniconta/{TOKEN}/", "QUERY_STRING": "Table=Debtor&Argument=s3cret",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9"}
    response = SimpleNamespace(status="404 Not Found", sent=97, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    logger.error("Error handling request %s", environ["RAW_URI"])
    for handler in logger.error_log.handlers + logger.access_log.handlers:
        handler.flush()
    access, error = (tmp_path / "access.log").read_text(), (tmp_path / "error.log").read_text()
    assert '"POST /hooks/uniconta/…/?Table=Debtor&Argument=… HTTP/1.1" 404 97' in access
    assert "Error handling request /hooks/uniconta/…/?Table=Debtor&Argument=…" in error
    assert TOKEN not in access + error and "s3cret" not in access + error
