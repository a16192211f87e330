"""Middleware of Synkro's own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreForSignedInMiddleware:
    """Pages served to a signed-in user are never stored by browsers or proxies.

    Takes each request; answers it as the rest of the stack does, adding ``Cache-Control: no-store``
    (with no-cache, must-revalidate, private, max-age=0) when the request carried a signed-in user.
    Static files (served earlier by whitenoise) and anonymous pages are left as they are.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
