"""``.env.example`` copied to ``.env`` as it is runs the demo, and it names every variable the settings read."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EXAMPLE = BASE_DIR / ".env.example"

#: Loads the example the way config/settings.py loads .env (django-environ's ``read_env``, the environment
#: winning), then configures Django, runs the system checks and prints the settings the demo depends on.
PROBE = """
import json, sys
import environ
environ.Env.read_env(sys.argv[1], overwrite=False)
import django
from django.conf import settings
from django.core.management import call_command
django.setup()
call_command("check", fail_level="ERROR")
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SANDBOX_ENABLED": settings.SANDBOX_ENABLED,
    "ALLOW_PRIVATE_VENDOR_HOSTS": settings.ALLOW_PRIVATE_VENDOR_HOSTS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "DATABASE_NAME": str(settings.DATABASES["default"]["NAME"]),
    "STATIC_ROOT": str(settings.STATIC_ROOT),
}))
"""


def _variables(text: str, *, commented: bool) -> set[str]:
    pattern = r"^#\s?([A-Z][A-Z0-9_]+)=" if commented else r"^([A-Z][A-Z0-9_]+)="
    return set(re.findall(pattern, text, flags=re.MULTILINE))


def test_the_copied_example_configures_the_demo(tmp_path):
    text = EXAMPLE.read_text()
    named = _variables(text, commented=False) | _variables(text, commented=True)
    # Only what the example says reaches the settings: nothing from the test run's own environment.
    env = {key: value for key, value in os.environ.items()
           if key not in named and not key.startswith(("PYTEST", "DJANGO_"))}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed program, the repository's own file
        [sys.executable, "-c", PROBE, str(EXAMPLE)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    configured = json.loads(result.stdout.strip().splitlines()[-1])
    assert configured["DEBUG"] is True
    assert configured["SANDBOX_ENABLED"] is True
    assert configured["ALLOW_PRIVATE_VENDOR_HOSTS"] is True
    # Plain HTTP on 127.0.0.1: a Secure cookie or a redirect to HTTPS would lock everyone out of the demo.
    assert configured["SESSION_COOKIE_SECURE"] is False
    assert configured["SECURE_SSL_REDIRECT"] is False
    # Files land beside manage.py whichever folder the command runs from (here: a temporary one).
    assert configured["DATABASE_NAME"] == str(BASE_DIR / "var" / "synkro.sqlite3")
    assert configured["STATIC_ROOT"] == str(BASE_DIR / "var" / "staticfiles")


def test_the_production_values_are_there_commented():
    commented = _variables(EXAMPLE.read_text(), commented=True)
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "DEBUG", "SANDBOX_ENABLED",
            "ALLOW_PRIVATE_VENDOR_HOSTS", "SECURE_COOKIES"} <= commented


def test_every_variable_the_settings_read_is_in_the_example():
    settings_source = (BASE_DIR / "config" / "settings.py").read_text()
    read = set(re.findall(r"env\.[a-z]+\(\"([A-Z][A-Z0-9_]+)\"", settings_source))
    assert read, "the settings read no variables? the pattern no longer matches them"
    text = EXAMPLE.read_text()
    missing = read - _variables(text, commented=False) - _variables(text, commented=True)
    assert not missing, f".env.example does not mention {sorted(missing)}"
