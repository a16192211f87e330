"""Request bodies of the REST API, refused with 413 beyond ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

Django checks that limit when ``request.body`` or ``request.POST`` is read, but DRF's JSON and form parsers read
the request stream themselves and never meet that check; these parsers apply it before reading anything.
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"


def body_limit() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _bounded(stream, parser_context) -> bytes:
    """The body, read only when it fits the limit: by its Content-Length, and by what actually arrives."""
    limit = body_limit()
    request = (parser_context or {}).get("request")
    if limit is not None and request is not None:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise BodyTooLarge(f"The request body is larger than {limit:,} bytes.")
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise BodyTooLarge(f"The request body is larger than {limit:,} bytes.")
    return body


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(io.BytesIO(_bounded(stream, parser_context)), media_type, parser_context)


class BoundedFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(io.BytesIO(_bounded(stream, parser_context)), media_type, parser_context)
