"""Writes on connections and integrations (views and API call these, never the ORM directly)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import Connection, ConnectionStatus, Integration, PollCursor
from .systems.base import plain_vendor_text
from .systems.errors import AuthError, ExternalSystemError
from .systems.hosts import BaseUrlRefused, host_of, same_host

logger = logging.getLogger(__name__)
#: The longest connection error kept: a sentence of ours and at most the vendor's capped words.
LAST_ERROR_LIMIT = 600


def secrets_to_enter_again(*, connection: Connection, base_url: str, given: set[str]) -> list[str]:
    """The secret credentials of ``connection`` that must be entered again to save it with ``base_url``.

    Secrets belong to the host they were entered for: moving a connection to another scheme, host or port
    needs every secret credential anew in the same save. ``base_url`` is the new base URL as entered (empty
    means the system's default); ``given`` the names of the credentials entered in this save. Empty when the
    host stays the same or the connection is new.
    """
    if connection.pk is None:
        return []
    provider = connection.provider
    stored = Connection.objects.filter(pk=connection.pk).values_list("base_url", flat=True).first()
    if stored is None or same_host(stored or provider.default_base_url, base_url or provider.default_base_url):
        return []
    return [f.name for f in provider.credential_fields if f.secret and f.name not in given]


def connection_test(*, connection: Connection) -> Connection:
    """Make one real authenticated call through the connection's client and store the outcome.

    What is stored is for people: plain sentences, at most the vendor's own error text from an answer shaped
    like the vendor's (capped), never a body from elsewhere (see ``ApiClient.error_for``).
    """
    provider = connection.provider
    try:
        client = connection.client(max_attempts=2)
    except BaseUrlRefused as exc:
        _record(connection, ok=False, error=f"Not tested: {exc}")
        return connection
    except NotImplementedError as exc:
        _record(connection, ok=False, error=str(exc))
        return connection
    try:
        detail = client.check_connection()
    except AuthError as exc:
        _record(connection, ok=False, error=f"{provider.name} refused the credentials. "
                f"Check them and save again. ({exc.vendor_message or exc.status})")
    except ExternalSystemError as exc:
        _record(connection, ok=False, error=str(exc))
    except NotImplementedError:
        _record(connection, ok=False, error=f"Testing is not available for {provider.name} yet.")
    except ValueError:
        # A success answer that is not the vendor's JSON: someone else's server.
        _record(connection, ok=False, error=f"The server at {host_of(client.base_url)} did not answer like "
                                            f"{provider.name}'s API.")
    except Exception as exc:
        logger.exception("connection test of %r crashed", connection)
        _record(connection, ok=False, error=f"Unexpected error while testing: {exc.__class__.__name__}")
    else:
        _record(connection, ok=True, detail=plain_vendor_text(detail))
    finally:
        client.close()
    return connection


def _record(connection: Connection, *, ok: bool, detail: str = "", error: str = "") -> None:
    connection.status = ConnectionStatus.OK if ok else ConnectionStatus.FAILED
    connection.status_detail = detail[:300]
    connection.last_error = error[:LAST_ERROR_LIMIT]
    connection.last_checked_at = timezone.now()
    connection.save(update_fields=["status", "status_detail", "last_error", "last_checked_at", "updated_at"])


class ActivationRefused(Exception):
    """Switching the integration on was refused; nothing was saved. ``reasons`` are sentences for people."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def integration_switched_on(integration: Integration) -> bool:
    """Whether saving ``integration`` as it stands switches it on: new and active, or paused until now.

    Moving an active integration to another front connection counts too: it starts writing there.
    """
    if not integration.active:
        return False
    if integration.pk is None:
        return True
    stored = Integration.objects.filter(pk=integration.pk).values("active", "crm_connection_id").first()
    return stored is None or not stored["active"] or stored["crm_connection_id"] != integration.crm_connection_id


def integration_activation_refusals(*, integration: Integration) -> list[str]:
    """Why ``integration`` (as it stands, saved or not) may not be switched on; empty when it may.

    Another active integration on the same webCRM (or Customers 1st) writing a field this one writes
    refuses it (see ``mappings.ownership``).
    """
    from mappings.ownership import ownership_refusals

    if not integration.active or not integration.crm_connection_id:
        return []
    return ownership_refusals(integration=integration)


@transaction.atomic
def integration_save(*, integration: Integration) -> Integration:
    """Save an integration from a form, the API, the admin or the demo setup.

    When the save switches it on, the field ownership is checked first (``ActivationRefused``, nothing
    saved) and ``activated_at`` is set: what existed before that moment is the initial import's, not the
    schedule's.
    """
    if integration_switched_on(integration):
        # Two activations on one front connection wait for each other, so both cannot pass the check.
        Connection.objects.select_for_update().filter(pk=integration.crm_connection_id).first()
        refusals = integration_activation_refusals(integration=integration)
        if refusals:
            raise ActivationRefused(refusals)
        integration.activated_at = timezone.now()
        # Polling starts its clock anew: what changed while the integration was off is the import's work.
        PollCursor.objects.filter(integration_id=integration.pk).delete()
    integration.save()
    return integration


def integration_activate(*, integration: Integration) -> Integration:
    """Switch an integration on (see ``integration_save``); one already on keeps its ``activated_at``."""
    integration.active = True
    return integration_save(integration=integration)


@dataclass(frozen=True)
class RegistrationResult:
    system: str
    system_name: str
    ok: bool
    message: str


def integration_webhooks_register(*, integration: Integration) -> list[RegistrationResult]:
    """Tell each system of the integration to call Synkro's URL for the entities whose webhooks are on.

    Vendors without an API for it answer with how a person does it; failures are reported in words,
    never raised, so one system being down does not hide what happened with the other.
    """
    from mappings.models import WebhookToggle

    results = []
    for connection in (integration.crm_connection, integration.erp_connection):
        provider = connection.provider
        entities = sorted(set(WebhookToggle.objects.filter(integration=integration, system=connection.system,
                                                           enabled=True).values_list("entity", flat=True)))
        if not provider.has_webhooks:
            results.append(RegistrationResult(connection.system, provider.name, False,
                                              provider.webhook_instructions or f"{provider.name} sends no webhooks."))
            continue
        client = connection.client(max_attempts=2)
        try:
            message = provider.register_webhooks(client=client, url=integration.webhook_url(connection.system),
                                                 entities=entities)
            prefix = f"{provider.name}: "  # the screen names the system already
            message = message[len(prefix):] if message.startswith(prefix) else message
            results.append(RegistrationResult(connection.system, provider.name, True, message))
        except NotImplementedError as manual:
            results.append(RegistrationResult(connection.system, provider.name, False, str(manual)))
        except ExternalSystemError as error:
            results.append(RegistrationResult(connection.system, provider.name, False,
                                              f"{provider.name} did not accept the registration: {error}"))
        finally:
            client.close()
    return results
