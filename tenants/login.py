"""Logging in: how a username is normalised, who the client is, and what a locked-out client sees.

django-axes counts failed logins per client address and per username in the database (settings: ``AXES_*``).
The functions here are the hooks it calls; they hold Synkro's rules and are plain functions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKOUT_MESSAGE = "Too many login attempts. Wait {wait} and try again."


def login_username(raw: str | None) -> str:
    """The username a person typed, as it is looked up: NFKC-normalised and stripped of surrounding space.

    "ｎａｍｅ" and " name\\t" both become "name". Case is kept: usernames are stored as given.
    """
    return unicodedata.normalize("NFKC", raw or "").strip()


def throttle_key(raw: str | None) -> str:
    """The username that failed logins are counted under: ``login_username`` case-folded.

    Every spelling that could reach one account ("Name", " NAME", "ＮＡＭＥ") shares one count.
    """
    return login_username(raw).casefold()


def throttle_username(request: HttpRequest, credentials: Mapping | None = None) -> str:
    """axes' username hook: the throttle key of the username in ``credentials``, else in the POSTed form."""
    field = str(settings.AXES_USERNAME_FORM_FIELD)
    if credentials and credentials.get(field) is not None:
        return throttle_key(str(credentials[field]))
    data = getattr(request, "data", None) or request.POST
    return throttle_key(data.get(field))


def client_address(request: HttpRequest) -> str | None:
    """The address of the client, for counting failed logins.

    Without a proxy (``PROXY_COUNT`` 0) that is the connection's own address. Behind ``PROXY_COUNT`` proxies
    it is the address the outermost of them saw, i.e. that many entries from the right of X-Forwarded-For
    (entries further left are whatever the client chose to send). If the header is shorter than that, the
    connection's own address is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


def wait_in_words(cool_off: timedelta | None) -> str:
    """How long a locked-out client waits, in plain words ("15 minutes", "1 hour", "a moment")."""
    if not cool_off:
        return "a while"
    minutes = max(1, round(cool_off.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: Mapping | None = None) -> HttpResponse:
    """axes' lockout hook: a plain page saying to wait, answered with 429 and a Retry-After header."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    message = LOCKOUT_MESSAGE.format(wait=wait_in_words(cool_off))
    response = render(request, "registration/lockout.html", {"message": message}, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


class NormalisedUsernameField(UsernameField):
    """A username field that strips and NFKC-normalises what was typed (see ``login_username``)."""

    def to_python(self, value):
        return login_username(super().to_python(value))


class LoginForm(AuthenticationForm):
    """Django's login form, with the username normalised before it is looked up."""

    username = NormalisedUsernameField(widget=AuthenticationForm.base_fields["username"].widget)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, with the username normalised as on the site's login."""

    username = NormalisedUsernameField(widget=AdminAuthenticationForm.base_fields["username"].widget)
