"""Writes on connections and integrations (views and API call these, never the ORM directly)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Connection, ConnectionStatus, Integration, PollCursor
from .systems.base import plain_vendor_text
from .systems.errors import AuthError, ExternalSystemError, RateLimitedError, TransientError
from .systems.hosts import BaseUrlRefused, host_of, same_host
from .systems.words import joined

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


@dataclass(frozen=True)
class ConnectionProbe:
    """What one real call through a connection's client showed.

    ``ok``: the vendor accepted the credentials (``detail`` says what was seen). ``checked``: the vendor (or a
    server in its place) answered, so ``error`` is a verdict on the credentials or the address; when False the
    vendor could not be reached or had a passing problem (timeout, 5xx, rate limit) and nothing is known.
    """

    ok: bool
    checked: bool = True
    detail: str = ""
    error: str = ""


def connection_probe(*, connection: Connection, unsaved: bool = False) -> ConnectionProbe:
    """Make one real authenticated call through the connection's client; write nothing.

    ``unsaved``: the connection's credentials are the ones being entered, not the stored ones: the client neither
    takes the stored credentials' lock (it would adopt them) nor writes a rotated token to the row; a token the
    vendor rotates (Fortnox's refresh token) lands in ``connection.credentials``, to be saved with it.
    What is kept for people: plain sentences, at most the vendor's own error text from an answer shaped like the
    vendor's (capped), never a body from elsewhere (see ``ApiClient.error_for``).
    """
    provider = connection.provider
    options: dict = {"max_attempts": 2}
    if unsaved:
        options.update(credentials_held=lambda: nullcontext(None), call_observer=None,
                       credentials_changed=lambda new: setattr(connection, "credentials", dict(new)))
    try:
        client = connection.client(**options)
    except BaseUrlRefused as exc:
        return ConnectionProbe(ok=False, error=f"Not tested: {exc}")
    except NotImplementedError as exc:
        return ConnectionProbe(ok=False, error=str(exc))
    try:
        detail = client.check_connection()
    except AuthError as exc:
        return ConnectionProbe(ok=False, error=f"{provider.name} refused the credentials. "
                               f"Check them and save again. ({exc.vendor_message or exc.status})")
    except (TransientError, RateLimitedError) as exc:
        return ConnectionProbe(ok=False, checked=False, error=f"{provider.name} could not be reached to check the "
                                                              f"credentials: {exc}")
    except ExternalSystemError as exc:
        return ConnectionProbe(ok=False, error=str(exc))
    except NotImplementedError:
        return ConnectionProbe(ok=False, error=f"Testing is not available for {provider.name} yet.")
    except ValueError:
        # A success answer that is not the vendor's JSON: someone else's server.
        return ConnectionProbe(ok=False, error=f"The server at {host_of(client.base_url)} did not answer like "
                                               f"{provider.name}'s API.")
    except Exception as exc:
        logger.exception("connection test of %r crashed", connection)
        return ConnectionProbe(ok=False, error=f"Unexpected error while testing: {exc.__class__.__name__}")
    finally:
        client.close()
    return ConnectionProbe(ok=True, detail=plain_vendor_text(detail))


def connection_test(*, connection: Connection) -> Connection:
    """Test the stored connection (:func:`connection_probe`) and store the outcome on it."""
    probe = connection_probe(connection=connection)
    _record(connection, ok=probe.ok, detail=probe.detail, error=probe.error)
    return connection


def connection_save_checked(*, connection: Connection, probe: ConnectionProbe | None) -> Connection:
    """Save a connection from the form with what its test on save showed (``probe``; None when it was not tested
    because neither its credentials nor its address changed).

    A refused connection is never saved: the caller shows ``probe.error`` instead. One that could not be checked
    (``probe.checked`` False) is saved as not tested, with the reason in its detail.
    """
    from .connection_status import connection_call_guard_forget

    if probe is not None and probe.checked and not probe.ok:
        raise ValueError("a refused connection is not saved")
    now = timezone.now()
    if probe is not None and probe.ok:
        connection.status, connection.status_detail, connection.last_error = ConnectionStatus.OK, probe.detail[:300], ""
        connection.last_checked_at = connection.last_success_at = now
        connection.failing_since = None
    elif probe is not None:
        connection.status, connection.last_error = ConnectionStatus.UNTESTED, ""
        connection.status_detail = f"Saved without a check: {probe.error}"[:300]
    connection.save()
    connection_call_guard_forget(connection)
    return connection


def _record(connection: Connection, *, ok: bool, detail: str = "", error: str = "") -> None:
    from .connection_status import connection_call_guard_forget

    now = timezone.now()
    connection.status = ConnectionStatus.OK if ok else ConnectionStatus.FAILED
    connection.status_detail = detail[:300]
    connection.last_error = error[:LAST_ERROR_LIMIT]
    connection.last_checked_at = now
    if ok:
        connection.last_success_at, connection.failing_since = now, None
    elif connection.failing_since is None:
        connection.failing_since = now
    connection.save(update_fields=["status", "status_detail", "last_error", "last_checked_at", "last_success_at",
                                   "failing_since", "updated_at"])
    connection_call_guard_forget(connection)


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
def integration_save(*, integration: Integration, user: Any = None) -> Integration:
    """Save an integration from a form, the API, the admin or the demo setup; ``user`` is who saves it (None: the
    system).

    When the save switches it on, the field ownership is checked first (``ActivationRefused``, nothing
    saved) and ``activated_at`` is set: what existed before that moment is the initial import's, not the
    schedule's. Switching it on or pausing it is audited ("Activated" / "Paused", by whom) and its webhooks are
    registered again or removed at the vendors by a task after the commit (``integration_hooks_follow``); a vendor
    out of reach never blocks the save.
    """
    was_active = (Integration.objects.filter(pk=integration.pk).values_list("active", flat=True).first()
                  if integration.pk is not None else None)
    if integration_switched_on(integration):
        # Two activations on one front connection wait for each other, so both cannot pass the check.
        Connection.objects.select_for_update().filter(pk=integration.crm_connection_id).first()
        refusals = integration_activation_refusals(integration=integration)
        if refusals:
            raise ActivationRefused(refusals)
        integration.activated_at = timezone.now()
        # Polling starts its clock anew: what changed while the integration was off is the import's work.
        PollCursor.objects.filter(integration_id=integration.pk).delete()
    switched = integration.active != bool(was_active) if was_active is not None else integration.active
    if switched:
        integration.hooks_owed = HOOKS_REGISTER if integration.active else HOOKS_REMOVE
        integration.hooks_error = ""
    integration.save()
    if switched:
        _switch_audit(integration, user=user)
        from .tasks import hooks_follow_enqueue

        hooks_follow_enqueue(integration_id=integration.pk)
    return integration


def integration_activate(*, integration: Integration, user: Any = None) -> Integration:
    """Switch an integration on (see ``integration_save``); one already on keeps its ``activated_at``."""
    integration.active = True
    return integration_save(integration=integration, user=user)


def integration_pause(*, integration: Integration, user: Any = None) -> Integration:
    """Pause an integration (see ``integration_save``): audited, and its webhooks are removed at the vendors."""
    integration.active = False
    return integration_save(integration=integration, user=user)


def _switch_audit(integration: Integration, *, user: Any) -> None:
    from mappings.audit import config_change_record

    config_change_record(integration=integration, user=user,
                         action="activated" if integration.active else "paused", subject=integration.name,
                         before={"active": not integration.active}, after={"active": integration.active})


#: ``Integration.hooks_owed``: what is still to be done at the vendors after a switch.
HOOKS_REMOVE, HOOKS_REGISTER = "remove", "register"


@dataclass(frozen=True)
class RegistrationResult:
    system: str
    system_name: str
    ok: bool
    message: str
    #: The vendor could not be reached or refused for now: worth trying again (``hooks_owed_task``). False for a
    #: success and for what the vendor's API cannot do at all (a person does it, or nothing needs doing).
    retry: bool = False


def integration_webhooks_register(*, integration: Integration) -> list[RegistrationResult]:
    """Tell each system of the integration to call Synkro's URL for the entities whose webhooks are on.

    Vendors without an API for it answer with how a person does it; failures are reported in words,
    never raised, so one system being down does not hide what happened with the other. A paused integration
    registers nothing (its webhooks come back when it is switched on).
    """
    from mappings.models import WebhookToggle

    if not integration.active:
        return [RegistrationResult(c.system, c.provider.name, False, "The integration is paused: its webhooks are "
                                   "registered again when it is switched on.")
                for c in (integration.crm_connection, integration.erp_connection)]
    results = []
    for connection in (integration.crm_connection, integration.erp_connection):
        provider = connection.provider
        entities = sorted(set(WebhookToggle.objects.filter(integration=integration, system=connection.system,
                                                           enabled=True).values_list("entity", flat=True)))
        if not provider.has_webhooks:
            results.append(RegistrationResult(connection.system, provider.name, False,
                                              provider.webhook_instructions or f"{provider.name} sends no webhooks."))
            continue
        try:
            client = connection.client(max_attempts=2)
        except BaseUrlRefused as refused:
            results.append(RegistrationResult(connection.system, provider.name, False, str(refused)))
            continue
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
                                              f"{provider.name} did not accept the registration: {error}",
                                              retry=True))
        finally:
            client.close()
    if not any(r.retry for r in results):
        Integration.objects.filter(pk=integration.pk, active=True, hooks_owed=HOOKS_REGISTER).update(
            hooks_owed="", hooks_error="")
    return results


def integration_webhooks_remove(*, integration: Integration) -> list[RegistrationResult]:
    """Take Synkro's webhooks of ``integration`` down at each vendor whose API allows it (its URL only; another
    integration of the same account keeps its own).

    A vendor without such an API (or with none at all: Fortnox's change stream simply stops being read for a
    paused integration) answers in words and is not retried; notices that still arrive are answered 2xx and
    counted as dropped while paused. A vendor out of reach is reported with ``retry``; nothing is raised.
    """
    results = []
    for connection in (integration.crm_connection, integration.erp_connection):
        provider = connection.provider
        name = provider.name
        if not provider.has_webhooks:
            results.append(RegistrationResult(connection.system, name, True, f"{name} sends no webhooks; Synkro stops "
                                              "reading its changes while the integration is paused."))
            continue
        unregister = provider.extras.get("webhook_unregistrar")
        if unregister is None:
            results.append(RegistrationResult(connection.system, name, False, f"{name}'s API cannot remove webhooks; "
                                              "notices that still arrive are acknowledged and dropped."))
            continue
        try:
            client = connection.client(max_attempts=2)
        except BaseUrlRefused as refused:
            results.append(RegistrationResult(connection.system, name, False, str(refused)))
            continue
        try:
            message = unregister(client, integration.webhook_url(connection.system))
            prefix = f"{name}: "
            message = message[len(prefix):] if message.startswith(prefix) else message
            results.append(RegistrationResult(connection.system, name, True, message))
        except NotImplementedError as manual:
            results.append(RegistrationResult(connection.system, name, False, str(manual)))
        except ExternalSystemError as error:
            results.append(RegistrationResult(connection.system, name, False, f"{name} could not be reached to remove "
                                              f"the webhooks: {error}", retry=True))
        finally:
            client.close()
    return results


def integration_hooks_follow(*, integration: Integration) -> list[RegistrationResult]:
    """Bring the vendors' webhooks in line with whether ``integration`` is paused: removed while it is, registered
    while it is on. Called by a task after each switch and by ``hooks_owed_task`` while something is owed.

    What could not be done for now stays owed (``Integration.hooks_owed``, with the reason in ``hooks_error``) and
    is tried again every few minutes and at the next switch. A pause whose webhooks could not be removed is
    audited in words once (not at every retry); a later success after such a failure is audited too.
    """
    from mappings.audit import config_change_record

    integration.refresh_from_db(fields=["active", "hooks_owed", "hooks_error"])
    paused = not integration.active
    results = integration_webhooks_remove(integration=integration) if paused else \
        integration_webhooks_register(integration=integration)
    failed = [r for r in results if r.retry]
    error = " ".join(r.message for r in failed)[:LAST_ERROR_LIMIT]
    owed = (HOOKS_REMOVE if paused else HOOKS_REGISTER) if failed else ""
    updated = Integration.objects.filter(pk=integration.pk, active=integration.active).update(
        hooks_owed=owed, hooks_error=error)
    if updated and paused and error and not integration.hooks_error:  # the first failure since the pause
        names = joined(list(dict.fromkeys(r.system_name for r in failed)))
        config_change_record(integration=integration, user=None, action="noted",
                             subject=f"Webhooks could not be removed at {names}; Synkro tries again every few "
                                     "minutes and when the integration is switched on again",
                             after={"reason": error})
    elif updated and paused and not error and integration.hooks_error:
        config_change_record(integration=integration, user=None, action="noted",
                             subject="Webhooks removed at the vendors after all",
                             before={"reason": integration.hooks_error})
    manual = [r for r in results if not r.ok and not r.retry]
    if updated and paused and manual and not integration.hooks_error:  # once, at the first attempt after the pause
        for result in manual:
            config_change_record(integration=integration, user=None, action="noted",
                                 subject=f"Webhooks at {result.system_name} are removed by a person",
                                 after={"reason": result.message})
    integration.hooks_owed, integration.hooks_error = owed, error
    return results
