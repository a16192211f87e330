"""Keep webhook tokens out of every log line Synkro writes.

A webhook URL is ``/hooks/<system>/<token>/`` and the token is its only credential, so a log line naming
the path would hand the URL to anyone who reads the log. :class:`WebhookTokenFilter` rewrites the token
to ``…`` in a record's message, its arguments and its traceback; ``settings.LOGGING`` puts it on every
handler Synkro configures. :class:`RedactingGunicornLogger` does the same for gunicorn's error and access
logs (``--logger-class config.logredact.RedactingGunicornLogger``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

#: ``/hooks/<system>/`` followed by the token, up to the next slash, query, space or quote.
_HOOK_TOKEN = re.compile(r"(/hooks/[^/\s?#\"'<>]+/)[^/\s?#\"'<>]+")
#: Uniconta's change URL may carry the connection's secret as ``Argument=`` in the query string.
_ARGUMENT = re.compile(r"([?&]argument=)[^&\s#\"'<>]*", re.IGNORECASE)
#: Fortnox sends the browser back with a single-use authorisation code (and the state guarding it) in the query.
_CONNECT_RETURN = "/connections/fortnox/return/"
_OAUTH_PARAMETER = re.compile(r"([?&](?:code|state)=)[^&\s#\"'<>]*")
REDACTED = "…"

#: Arguments formatted as they are (``%d`` of a number must stay a number).
_PLAIN_TYPES = (int, float, bool, type(None))


def redact(text: str) -> str:
    """``text`` with every webhook token (and Uniconta ``Argument`` secret, and the ``code``/``state`` Fortnox sends
    back to ``/connections/fortnox/return/``) replaced by ``…``."""
    if _CONNECT_RETURN in text:
        text = _OAUTH_PARAMETER.sub(rf"\g<1>{REDACTED}", text)
    if "/hooks/" not in text and "rgument=" not in text.lower():
        return text
    return _ARGUMENT.sub(rf"\g<1>{REDACTED}", _HOOK_TOKEN.sub(rf"\g<1>{REDACTED}", text))


def _redact_value(value: Any) -> Any:
    """A log argument without tokens: text is rewritten, numbers kept, other objects by their redacted text."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _PLAIN_TYPES):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class WebhookTokenFilter(logging.Filter):
    """Rewrites webhook tokens out of a record; never drops a record.

    In: any ``LogRecord``. Out: ``True``, with ``msg``, ``args`` (a tuple or a mapping), the traceback
    text and the stack text redacted in place, so every handler after it sees only ``/hooks/<system>/…/``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        else:
            record.msg = _redact_value(record.msg)
        if isinstance(record.args, dict):  # in place: a dict subclass (gunicorn's atoms) keeps its behaviour
            for key in list(record.args):
                record.args[key] = _redact_value(record.args[key])
        elif isinstance(record.args, Mapping):
            record.args = {key: _redact_value(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_value(value) for value in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


#: One instance, so that gunicorn's setup running again (on SIGHUP) does not add a second.
_TOKEN_FILTER = WebhookTokenFilter()


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with the token filter on its error and access logs (request line, path, referer)."""

    def setup(self, cfg: Any) -> None:
        """gunicorn's own setup, then the filter on both of its loggers, whatever handlers they were given."""
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.addFilter(_TOKEN_FILTER)
