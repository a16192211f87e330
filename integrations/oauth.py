"""Connecting a Fortnox company with "Connect to Fortnox" (OAuth 2 authorisation code), Synkro's part.

1. :func:`fortnox_connect_start` keeps what is being connected (tenant, connection or a new one's name and
   address) in the user's session under an unguessable ``state`` and gives the address of Fortnox's consent page.
2. Fortnox sends the browser back to ``fortnox-connect-return`` with ``code`` and ``state`` (or ``error``).
   :func:`fortnox_connect_state_take` takes the state out of the session: it is single-use, expires after
   ``STATE_LIFETIME`` seconds and belongs to the session (and user) that started it.
3. :func:`fortnox_connection_connect` trades the code for tokens at Fortnox's token endpoint (HTTP Basic with the
   app's client credentials), makes one cheap read with them and only then writes the connection: its encrypted
   credentials and its status. Any refusal raises :class:`ConnectRefused` and writes nothing.

The app's client id and secret: for Fortnox's own API host from the settings ``FORTNOX_CLIENT_ID`` /
``FORTNOX_CLIENT_SECRET``; for a sandbox address (the demo, tests) the sandbox's demo app. They travel only to the
connection's token endpoint, which the client pins (``hosts``), and are never shown.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.access import scoped
from tenants.models import Tenant

from .connection_status import connection_call_guard_forget
from .models import Connection, ConnectionStatus, DjangoCacheTokenStore
from .systems.base import plain_vendor_text
from .systems.errors import AuthError, ExternalSystemError, TransientError
from .systems.fortnox.client import FORTNOX_API_HOST, api_base_url
from .systems.fortnox.oauth import CODE_LIFETIME, consent_url
from .systems.hosts import BaseUrlRefused
from .systems.registry import get_system

#: Where the pending connections live in the session, by state.
SESSION_KEY = "fortnox_connect"
#: Seconds a started connection waits for Fortnox's answer: as long as Fortnox's code lives.
STATE_LIFETIME = CODE_LIFETIME
#: At most this many connections may be pending in one session (older ones are dropped).
PENDING_LIMIT = 5
START_AGAIN = "Nothing was saved. Start again with “Connect to Fortnox”."


class ConnectRefused(Exception):
    """Connecting did not succeed and nothing was written; the message is for people."""


@dataclass(frozen=True)
class PendingConnect:
    """What one click on "Connect to Fortnox" is connecting."""

    tenant_slug: str
    user_id: int
    #: The connection being reconnected; None for a new one (made only when Fortnox says yes).
    connection_id: int | None
    name: str
    base_url: str
    redirect_uri: str
    expires: float


def fortnox_app_credentials(*, base_url: str) -> dict[str, str]:
    """``{"client_id", "client_secret"}`` of the Fortnox app for a connection at ``base_url``.

    Fortnox's own host: the settings ``FORTNOX_CLIENT_ID`` / ``FORTNOX_CLIENT_SECRET`` (``ConnectRefused`` when
    either is missing). Any other (sandbox) host: the sandbox's demo app.
    """
    provider = get_system("fortnox")
    if urlsplit(api_base_url(base_url or provider.default_base_url)).hostname == FORTNOX_API_HOST:
        client_id = getattr(settings, "FORTNOX_CLIENT_ID", "")
        client_secret = getattr(settings, "FORTNOX_CLIENT_SECRET", "")
        if not client_id or not client_secret:
            raise ConnectRefused("Connecting to Fortnox is not set up on this installation yet "
                                 "(FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET). Ask the people who run Synkro.")
        return {"client_id": client_id, "client_secret": client_secret}
    demo = provider.demo_credentials
    return {"client_id": demo["client_id"], "client_secret": demo["client_secret"]}


def fortnox_connect_start(*, session: Any, tenant: Tenant, user_id: int, connection: Connection | None, name: str,
                          base_url: str, redirect_uri: str, now: float | None = None) -> str:
    """Remember a connection being connected in ``session`` and return the address of Fortnox's consent page.

    ``connection`` is the saved connection being reconnected, or None for a new one named ``name``; ``base_url``
    is its address as entered (empty for Fortnox's own). ``redirect_uri`` is the absolute address of
    ``fortnox-connect-return``, the one registered with the Fortnox app. ``ConnectRefused`` when the installation
    has no Fortnox app for the address.
    """
    app = fortnox_app_credentials(base_url=base_url)
    now = time.time() if now is None else now
    state = generate_token(43)
    pending = {key: value for key, value in (session.get(SESSION_KEY) or {}).items()
               if isinstance(value, dict) and value.get("expires", 0) > now}
    while len(pending) >= PENDING_LIMIT:
        pending.pop(min(pending, key=lambda key: pending[key]["expires"]))
    pending[state] = asdict(PendingConnect(
        tenant_slug=tenant.slug, user_id=user_id, connection_id=connection.pk if connection is not None else None,
        name=name, base_url=base_url, redirect_uri=redirect_uri, expires=now + STATE_LIFETIME))
    session[SESSION_KEY] = pending
    return consent_url(base_url=base_url or get_system("fortnox").default_base_url, client_id=app["client_id"],
                       redirect_uri=redirect_uri, state=state)


def fortnox_connect_state_take(*, session: Any, state: str, user_id: int, now: float | None = None
                               ) -> PendingConnect:
    """Take the pending connection of ``state`` out of ``session`` (single use, whatever happens next).

    ``ConnectRefused`` when the state is unknown to this session, was used already, expired, or was started by
    another user.
    """
    now = time.time() if now is None else now
    pending = dict(session.get(SESSION_KEY) or {})
    entry = pending.pop(state, None) if state else None
    session[SESSION_KEY] = {key: value for key, value in pending.items() if value.get("expires", 0) > now}
    if not isinstance(entry, dict):
        raise ConnectRefused("This answer from Fortnox does not belong to a connection started here, or it was used "
                             f"already. {START_AGAIN}")
    taken = PendingConnect(**entry)
    if taken.expires <= now:
        raise ConnectRefused(f"Fortnox answered after more than {STATE_LIFETIME // 60} minutes. {START_AGAIN}")
    if taken.user_id != user_id:
        raise ConnectRefused(f"This connection was started by someone else. {START_AGAIN}")
    return taken


def fortnox_denied_message(*, error: str, description: str = "") -> str:
    """The sentence shown when Fortnox comes back with ``error`` instead of a code (``access_denied``: the user
    said no)."""
    if error == "access_denied":
        return f"Fortnox was not connected: access was not allowed on Fortnox's page. {START_AGAIN}"
    words = plain_vendor_text(description or error)
    return f"Fortnox did not connect: {words}. {START_AGAIN}"


def fortnox_connection_connect(*, tenant: Tenant, pending: PendingConnect, code: str) -> Connection:
    """Trade ``code`` for tokens, prove them with one read, then save the connection of ``pending`` in ``tenant``.

    Out: the saved connection, its credentials the app's client id/secret, the refresh token and the access token
    (with its expiry), its status working. ``ConnectRefused`` (nothing written) when Fortnox refuses the code or
    the app, cannot be reached, the tokens do not read, or the connection changed meanwhile (deleted, its name
    taken). The connection gets the name and address entered when the button was pressed.
    """
    provider = get_system("fortnox")
    base_url = pending.base_url
    app = fortnox_app_credentials(base_url=base_url)
    try:
        client = provider.client(base_url=base_url or provider.default_base_url, credentials=app, max_attempts=2,
                                 token_store=DjangoCacheTokenStore())
    except BaseUrlRefused as exc:
        raise ConnectRefused(f"{exc} {START_AGAIN}") from exc
    try:
        credentials = client.tokens_from_code(code=code, redirect_uri=pending.redirect_uri)
        detail = client.check_connection()
    except AuthError as exc:
        words = plain_vendor_text(exc.vendor_message) or f"HTTP {exc.status}"
        raise ConnectRefused(f"Fortnox refused the connection ({words}). {START_AGAIN}") from exc
    except TransientError as exc:
        raise ConnectRefused(f"Fortnox could not be reached: {exc}. {START_AGAIN}") from exc
    except ExternalSystemError as exc:
        raise ConnectRefused(f"Fortnox did not connect: {exc}. {START_AGAIN}") from exc
    finally:
        client.close()
    return _connection_store(tenant=tenant, pending=pending, credentials=credentials, detail=detail)


@transaction.atomic
def _connection_store(*, tenant: Tenant, pending: PendingConnect, credentials: dict[str, str], detail: str
                      ) -> Connection:
    now = timezone.now()
    if pending.connection_id is not None:
        connection = scoped(Connection, tenant).select_for_update().filter(pk=pending.connection_id).first()
        if connection is None or connection.system != "fortnox":
            raise ConnectRefused(f"The connection was deleted while Fortnox was asked. {START_AGAIN}")
    else:
        connection = Connection(tenant=tenant, system="fortnox")
    if scoped(Connection, tenant).filter(name=pending.name).exclude(pk=connection.pk).exists():
        raise ConnectRefused(f"Another connection of this tenant is now named “{pending.name}”. {START_AGAIN}")
    # The name and address as entered when "Connect to Fortnox" was pressed: the tokens belong to that address.
    connection.name, connection.base_url = pending.name, pending.base_url
    connection.credentials = credentials
    connection.status, connection.status_detail, connection.last_error = ConnectionStatus.OK, detail[:300], ""
    connection.last_checked_at = connection.last_success_at = now
    connection.failing_since = None
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as exc:  # the name was taken in the same instant
        raise ConnectRefused(f"Another connection of this tenant is now named “{pending.name}”. {START_AGAIN}") \
            from exc
    connection_call_guard_forget(connection)
    return connection
