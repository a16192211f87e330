"""Encryption of secrets at rest (Fernet, keys from the environment).

``FIELD_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated: the first encrypts, all
decrypt, so a key can be rotated by prepending a new one and re-saving. Only with DEBUG on is a
development key derived from SECRET_KEY when none is set.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY if k.strip()]
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEY to a Fernet key to store credentials.")
        keys = [base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()]
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes (a Fernet key).") from exc


def encrypt_text(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("Stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY.") from exc


class EncryptedJSONField(models.TextField):
    """A dict stored as Fernet ciphertext. The database never sees the plaintext."""

    description = "JSON encrypted with Fernet"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict | None:
        if value is None or value == "":
            return {}
        return json.loads(decrypt_text(value))

    def to_python(self, value: Any) -> dict:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return json.loads(decrypt_text(value))

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_text(json.dumps(value, sort_keys=True))

    def value_to_string(self, obj: Any) -> str:
        # Serialisation (dumpdata) keeps the ciphertext, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj)) or ""
