"""Connecting a Fortnox company to Synkro: Fortnox's OAuth 2 authorisation-code flow, the vendor's part.

Fortnox's "Get Authorization-Code" page (docs/vendors/fortnox.md "Connecting"): the user is sent to
``https://apps.fortnox.se/oauth-v1/auth`` with ``client_id``, ``redirect_uri``, ``scope`` (space separated),
``state``, ``access_type=offline`` and ``response_type=code``; Fortnox sends the browser back to ``redirect_uri``
with ``code`` and ``state``, or with ``error`` (``access_denied`` when the user said no). The code is then traded
at the token endpoint (:meth:`.client.FortnoxClient.tokens_from_code`).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from .client import api_base_url, authorize_url_for

#: What Synkro reads and writes: customers, articles, orders, invoices and employees (``salary``), and the
#: company's name. Fortnox's scope list: fortnox.se/developer/guides-and-good-to-know/scopes.
REQUESTED_SCOPES = ("companyinformation", "customer", "article", "order", "invoice", "salary")
#: Seconds an authorisation code is accepted by Fortnox ("Expiration time: 10 minutes").
CODE_LIFETIME = 600


def consent_url(*, base_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The address of Fortnox's consent page for the connection at ``base_url`` (its API address, with or without
    ``/3``): Fortnox's own for ``api.fortnox.se``, ``oauth-v1/auth`` beside ``/3`` for a sandbox."""
    return prepare_grant_uri(authorize_url_for(api_base_url(base_url)), client_id, "code", redirect_uri=redirect_uri,
                             scope=list(REQUESTED_SCOPES), state=state, access_type="offline")
