"""One console line per request Django refused, and no second line for the same request.

Django's request logger (``django.request``) reports every answer of 400 or more that Django gives
(``BaseHandler.get_response`` and ``response_for_exception`` call ``django.utils.log.log_response`` once per
response). For a refusal (4xx) the request, not the code, was wrong, so :class:`ClientErrorsInOneLine` keeps
the line and drops the traceback Django attaches to a ``PermissionDenied`` or ``Http404``; server errors (5xx)
keep theirs. The development server (``runserver``) also writes an access line for each request on the
``django.server`` logger; :class:`AccessLineUnlessDjangoSaidIt` drops that line for answers Django's request
logger has already reported, and keeps it for everything else, including the paths answered outside Django
(the sandboxes mounted under ``/sandbox/`` by ``config/wsgi.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable


class ClientErrorsInOneLine(logging.Filter):
    """For ``django.request``: a record of a 4xx answer loses its traceback; never drops a record.

    In: a ``LogRecord`` (Django sets ``status_code`` on the records it logs for a response). Out: ``True``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class AccessLineUnlessDjangoSaidIt(logging.Filter):
    """For ``django.server``: drop the access line of an answer of 400 or more that Django gave.

    In: a ``LogRecord`` of the development server, whose ``args`` are ``(request line, status, size)`` and
    which carries ``status_code``. ``outside_django`` lists path prefixes answered by other WSGI apps, whose
    lines are kept. Out: ``False`` for a line Django's request logger has already reported, else ``True``.
    """

    def __init__(self, outside_django: Iterable[str] = ()) -> None:
        super().__init__()
        self.outside_django = tuple(outside_django)

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or status < 400:
            return True
        request_line = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        parts = str(request_line).split()
        path = parts[1] if len(parts) > 1 else ""
        return bool(self.outside_django) and path.startswith(self.outside_django)
