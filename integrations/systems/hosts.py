"""Where a connection's stored secrets may be sent.

A connection's base URL decides where its credentials travel, so it is checked by one pure function
(:func:`base_url_problem`) in every place that takes one — the connection screen, the API, the admin —
and again by the client factory before any request. The HTTP layer then refuses any request whose final
URL leaves the origins of :func:`client_origins` (see ``base.ApiClient``).

The rules, in order:

* ``http://`` or ``https://``, a host, no user name or password, no query (``?``), no fragment (``#``) and a
  path that is a plain prefix (letters, digits, ``- . _ ~`` between slashes; no ``.`` or ``..`` segments);
* an address served by a sandbox inside this process (tests, benchmarks) is accepted: nothing leaves it;
* Synkro's own demo sandboxes (``<PUBLIC_BASE_URL>/sandbox/<system>``) and the reserved ``.test`` names
  (RFC 6761) are *sandbox addresses*, accepted only while ``SANDBOX_ENABLED`` is on;
* in production (``DEBUG`` off) any other host must be one of the vendor's own (``SystemProvider.allowed_hosts``),
  over https on the default port; in development any host will do;
* ``https`` only, except for sandbox addresses and, in development with private hosts allowed, loopback;
* every address the host resolves to must be public (not private, loopback, link-local, multicast, reserved
  or unspecified) unless ``ALLOW_PRIVATE_VENDOR_HOSTS`` is on. A name that does not resolve has no address
  to refuse; a request to it cannot go anywhere.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import transport
from .errors import ExternalSystemError

if TYPE_CHECKING:
    from .base import SystemProvider

Origin = tuple[str, str, int]
Resolver = Callable[[str], list[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
SANDBOX_PATH = "/sandbox/"
SANDBOX_SUFFIX = ".test"
_PLAIN_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)*/?$")
_UNSAFE_CHARACTERS = re.compile(r"[\s\\\x00-\x1f\x7f]")


class BaseUrlRefused(ExternalSystemError):
    """A base URL, or a request's URL, that the credentials of a connection may not be sent to."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What this installation allows; :func:`outbound_policy` reads it from the settings."""

    production: bool = True
    sandbox_enabled: bool = False
    allow_private: bool = False
    #: Synkro's own address (``PUBLIC_BASE_URL``), under which the demo sandboxes answer.
    public_base_url: str = ""


def outbound_policy() -> OutboundPolicy:
    """The policy of the running installation: ``DEBUG``, ``SANDBOX_ENABLED``, ``ALLOW_PRIVATE_VENDOR_HOSTS``."""
    from django.conf import settings

    return OutboundPolicy(
        production=not settings.DEBUG,
        sandbox_enabled=bool(getattr(settings, "SANDBOX_ENABLED", False)),
        allow_private=bool(getattr(settings, "ALLOW_PRIVATE_VENDOR_HOSTS", False)),
        public_base_url=str(getattr(settings, "PUBLIC_BASE_URL", "") or ""),
    )


def resolve_addresses(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is its own); empty when it does not resolve."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]).split("%")[0] for info in found})


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of ``url``, lower-cased and with the scheme's default port; None when unusable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def host_of(url: str) -> str:
    """The host of ``url`` for messages ("the server at …"), or the URL itself when it has none."""
    origin = origin_of(url)
    return origin[1] if origin else url


def client_origins(base_url: str, extra_urls: Iterable[str] = ()) -> frozenset[Origin]:
    """Where a client of ``base_url`` may send requests: its own origin and the vendor's fixed auth URLs."""
    return frozenset(o for o in (origin_of(u) for u in (base_url, *extra_urls) if u) if o is not None)


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
    if mapped is not None and not _is_public(str(mapped)):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def _is_loopback_name(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_demo_sandbox(url: str, policy: OutboundPolicy) -> bool:
    own = origin_of(policy.public_base_url) if policy.public_base_url else None
    if own is None or origin_of(url) != own:
        return False
    own_path = urlsplit(policy.public_base_url).path.rstrip("/")
    return urlsplit(url).path.startswith(own_path + SANDBOX_PATH)


def base_url_problem(url: str, *, provider: SystemProvider, policy: OutboundPolicy | None = None,
                     resolve: Resolver = resolve_addresses) -> str | None:
    """Why ``provider``'s credentials may not be sent to ``url``, in a sentence for people; None when they may.

    ``url`` is the effective base URL (the provider's default when the connection leaves it empty).
    """
    policy = policy or outbound_policy()
    name = provider.name
    if _UNSAFE_CHARACTERS.search(url):
        return "The base URL may not contain spaces, backslashes or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The base URL is not a valid address."
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return "The base URL must start with https://."
    if "@" in parts.netloc or parts.username or parts.password:
        return "The base URL may not contain a user name or password."
    if "?" in url:
        return "The base URL may not contain a query (the part after “?”)."
    if "#" in url:
        return "The base URL may not contain “#”."
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "The base URL has no host."
    segments = [s for s in parts.path.split("/") if s]
    if not _PLAIN_PATH.match(parts.path) or any(s in (".", "..") for s in segments) or "//" in parts.path:
        return "The base URL's path may hold only letters, digits and - . _ ~ between single slashes."
    if transport.in_process(url):
        return None  # a sandbox inside this process: nothing leaves it

    demo_sandbox = _is_demo_sandbox(url, policy)
    sandbox = demo_sandbox or host == SANDBOX_SUFFIX[1:] or host.endswith(SANDBOX_SUFFIX)
    known = host in {h.lower() for h in provider.allowed_hosts}
    if sandbox and not policy.sandbox_enabled:
        return f"{host} is a sandbox address, and sandboxes are switched off here."
    if not sandbox and not known and policy.production:
        hosts = ", ".join(provider.allowed_hosts) or "no address yet"
        return f"{name}'s API is at {hosts}; Synkro sends {name} credentials nowhere else."
    if known and (scheme != "https" or (port or 443) != 443):
        return f"{name}'s API answers at https://{host} (port 443)."
    if scheme == "http" and not sandbox and not (not policy.production and policy.allow_private
                                                 and _is_loopback_name(host)):
        return "The base URL must start with https://."
    if demo_sandbox or policy.allow_private:
        return None  # Synkro's own demo sandboxes, or an installation that allows private hosts
    for address in resolve(host):
        if not _is_public(address):
            return f"{host} leads to a private or internal network address ({address}); it is refused."
    return None


def base_url_check(url: str, *, provider: SystemProvider, policy: OutboundPolicy | None = None,
                   resolve: Resolver = resolve_addresses) -> None:
    """Raise :class:`BaseUrlRefused` (with :func:`base_url_problem`'s sentence) when ``url`` is refused."""
    problem = base_url_problem(url, provider=provider, policy=policy, resolve=resolve)
    if problem:
        raise BaseUrlRefused(problem, system=provider.key)


def same_host(first: str, second: str) -> bool:
    """Whether two base URLs have one origin (scheme, host and port), so secrets stored for one fit the other."""
    return origin_of(first) == origin_of(second)
