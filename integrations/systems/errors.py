"""The small set of failures every external system's client raises.

The sync engine only ever sees these, never a vendor's own error shape, so the decision
"retry later" versus "fail now and tell a person" is made in one place for all vendors.
"""

from __future__ import annotations


class ExternalSystemError(Exception):
    """Base of every failure talking to an external system."""

    #: Whether waiting and trying again can succeed.
    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, vendor_message: str | None = None,
                 system: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.vendor_message = vendor_message
        #: The registry key of the system that failed, where the client knew it ("" otherwise).
        self.system = system

    def __str__(self) -> str:
        return self.message


class AuthError(ExternalSystemError):
    """The credentials were refused (wrong key, expired refresh token, missing scope)."""


class NotFoundError(ExternalSystemError):
    """The record or endpoint does not exist in the external system."""


class VendorValidationError(ExternalSystemError):
    """The vendor refused the data; ``vendor_message`` carries its own words."""


class RateLimitedError(ExternalSystemError):
    """The vendor answered 429; ``retry_after`` is how long it asked us to wait, in seconds."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(ExternalSystemError):
    """A 5xx, a timeout or a dropped connection: worth another try later."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class WebhookRejected(Exception):
    """An inbound webhook that is malformed or fails its signature check."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
