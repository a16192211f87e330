"""webCRM's 429: the wait comes in the ``Retry-After`` header and in the body's ``RetryAfterSeconds``."""

from __future__ import annotations

import pytest
import requests
from werkzeug.wrappers import Response

from integrations.systems import transport
from integrations.systems.errors import RateLimitedError
from integrations.systems.webcrm import provider

from ..contract import assert_error_matches, spec_source  # noqa: F401 - spec_source: digest and description
from ..recording import Recorder
from .conftest import CREDENTIALS

SPEC = "webcrm-swagger.json"
BASE = "https://webcrm.proxied"


class HeaderStripper:
    """A proxy in front of the sandbox that drops (or replaces) the Retry-After header of every answer."""

    def __init__(self, app, header: str | None = None) -> None:
        self.app, self.header = app, header

    def __call__(self, environ, start_response):
        response = Response.from_app(self.app, environ)
        del response.headers["Retry-After"]
        if self.header is not None:
            response.headers["Retry-After"] = self.header
        return response(environ, start_response)


def throttled_client(sandbox, clock, app, **options):
    sandbox.knobs.rate_limit = (2, 60.0)
    with transport.mounted(BASE, app):
        webcrm = provider.client(base_url=BASE, credentials=CREDENTIALS, sleep=clock.sleep, **options)
        webcrm.check_connection()  # the login and one call: the window is full
        clock.now += 15
        try:
            webcrm.check_connection()
        finally:
            webcrm.close()


def test_the_sandbox_sends_both_header_and_body(sandbox, clock):
    recorder = Recorder(sandbox)
    with pytest.raises(RateLimitedError) as caught:
        throttled_client(sandbox, clock, recorder, max_attempts=1)
    throttled = next(e for e in recorder.exchanges if e.status == 429)
    assert_error_matches(SPEC, 429, throttled.response_body)
    assert throttled.response_body["RetryAfterSeconds"] == 45 == caught.value.retry_after


def test_the_body_alone_is_honoured_when_the_header_is_gone(sandbox, clock):
    with pytest.raises(RateLimitedError) as caught:
        throttled_client(sandbox, clock, HeaderStripper(sandbox), max_attempts=1)
    assert caught.value.retry_after == 45


def test_the_longer_of_header_and_body_wins(sandbox, clock):
    with pytest.raises(RateLimitedError) as caught:
        throttled_client(sandbox, clock, HeaderStripper(sandbox, header="3"), max_attempts=1)
    assert caught.value.retry_after == 45


def test_a_retry_waits_what_the_body_says(sandbox, clock):
    throttled_client(sandbox, clock, HeaderStripper(sandbox))  # retried: succeeds after the wait
    assert clock.sleeps and clock.sleeps[0] >= 45


@pytest.mark.parametrize("body", [b'{"RetryAfterSeconds": "soon"}', b'{"RetryAfterSeconds": -4}', b"[]", b"x",
                                  b'{"RetryAfterSeconds": true}'])
def test_a_body_without_a_usable_wait_gives_none(body):
    webcrm = provider.client(base_url="https://api.webcrm.com", credentials=CREDENTIALS)
    answer = requests.Response()
    answer.status_code, answer._content = 429, body
    assert webcrm.retry_after_in_body(answer) is None
    assert webcrm.retry_after(answer) is None
