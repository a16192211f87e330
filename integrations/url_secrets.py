"""No credential ever travels in a web address.

Web addresses end up in server logs, browser history and proxies. Synkro's own pages never put a credential
in one (the connection form asks for another system's fields with a POST), and
:class:`SecretsInUrlMiddleware` answers 400 to any GET whose query string names a credential field of any
system — before any view, session or log of ours sees it. The development server's request line is
redacted too (:class:`RequestLineRedactor` on the ``django.server`` logger).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from .systems.registry import all_systems

CREDENTIAL_PREFIX = "credential_"
GUARDED_METHODS = frozenset({"GET", "HEAD"})
REFUSAL = ("Credentials are never accepted in a web address (the part after “?”). Nothing was done. "
           "If a secret was typed into the address, change it at the vendor.")
_REQUEST_LINE_QUERY = re.compile(r"\?[^\s\"]*")


@cache
def credential_query_names() -> frozenset[str]:
    """Query names that would carry a credential: every form field ``credential_<name>`` of every system, and
    the bare name of every secret credential (``api_key``, ``password``, ``client_secret`` …), lower-cased."""
    names: set[str] = set()
    for provider in all_systems():
        for spec in provider.credential_fields:
            names.add(f"{CREDENTIAL_PREFIX}{spec.name}".lower())
            if spec.secret:
                names.add(spec.name.lower())
    return frozenset(names)


def query_carries_credentials(query_string: str) -> bool:
    """Whether a raw query string names a credential field (values are never looked at)."""
    if not query_string:
        return False
    wanted = credential_query_names()
    return any(name.strip().lower() in wanted for name, _ in parse_qsl(query_string, keep_blank_values=True))


class RequestLineRedactor(logging.Filter):
    """Removes the query string from a logged request line that carries a credential field name."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(self._redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        return True

    @staticmethod
    def _redact(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            return "?[removed]" if query_carries_credentials(match.group(0)[1:]) else match.group(0)

        return _REQUEST_LINE_QUERY.sub(replace, text)


def install_request_line_redactor() -> None:
    """Add the redactor to the ``django.server`` logger once (the development server logs request lines there)."""
    server_logger = logging.getLogger("django.server")
    if not any(isinstance(f, RequestLineRedactor) for f in server_logger.filters):
        server_logger.addFilter(RequestLineRedactor())


class SecretsInUrlMiddleware:
    """400 for a GET (or HEAD) whose query string names a credential field; the query is not logged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        install_request_line_redactor()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in GUARDED_METHODS and query_carries_credentials(request.META.get("QUERY_STRING", "")):
            return HttpResponseBadRequest(REFUSAL, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
