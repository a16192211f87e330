"""Production settings: the deploy checks pass, and every answer carries the security headers it should."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent
# Variables the test run sets for itself (pytest-env) that a production machine would not.
TEST_ONLY = ("SECURE_COOKIES", "STATIC_MANIFEST", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT",
             "SECURE_HSTS_SECONDS", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY and not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="synkro.example.com",
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    )
    return env


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - a fixed command line of this repository's manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_deploy_checks_pass_with_production_settings(tmp_path):
    result = run_deploy_check(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_checks_pass_behind_a_proxy(tmp_path):
    result = run_deploy_check(production_env(tmp_path, BEHIND_PROXY="true"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_checks_catch_https_switched_off(tmp_path):
    """The check above can fail: switching HTTPS off gives the warnings a production site must not have."""
    result = run_deploy_check(production_env(tmp_path, SECURE_COOKIES="false"))
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr  # no HSTS
    assert "security.W008" in result.stdout + result.stderr  # no redirect to HTTPS


@pytest.fixture
def https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    return settings


@pytest.mark.django_db
def test_plain_http_is_redirected_and_https_carries_hsts(https):
    client = Client()
    assert client.get("/accounts/login/").status_code == 301
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_scheme_counts(https):
    https.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_of_self_only(client, world):
    client.force_login(world.admin)
    for url in ["/accounts/login/", f"/t/{world.tenant.slug}/"]:
        directives = policy(client.get(url, follow=True))
        assert directives["default-src"] == ["'self'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["frame-ancestors"] == ["'none'"]


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)
    found = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if inline.search(line):
                found.append(f"{template.relative_to(BASE_DIR)}:{number}: {line.strip()}")
    assert found == []


def test_the_scripts_and_styles_pages_load_are_files_of_our_own():
    for static in ["js/synkro.js", "css/synkro.css", "vendor/htmx-2.0.11.min.js"]:
        assert (Path(django_settings.STATICFILES_DIRS[0]) / static).is_file()


@pytest.mark.django_db
def test_pages_for_a_signed_in_user_are_not_stored(client, world):
    client.force_login(world.admin)
    response = client.get(f"/t/{world.tenant.slug}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_api_answers_for_a_signed_in_user_are_not_stored(api, world):
    api.force_authenticate(world.admin)
    response = api.get("/api/v1/tenants/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_for_anonymous_visitors_are_left_to_their_own_caching():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_api_description_needs_a_login(url):
    response = Client().get(url)
    assert response.status_code in (302, 401, 403)
    assert b"openapi" not in response.content.lower()
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_api_description_is_served_to_a_signed_in_user(client):
    client.force_login(UserFactory())
    assert b"openapi" in client.get("/api/schema/").content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"<script>" not in docs.content  # Swagger UI starts from a script file, not an inline script
    assert client.get("/api/docs/?script=").status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_work_in_the_browser_under_the_policy_with_nothing_refused(page, live_server):
    """htmx, the styles and Synkro's own script all load and run; the browser reports no refused content."""
    from integrations.models import Connection
    from tenants.models import Role
    from tests.browser.login import log_in
    from tests.factories import ConnectionFactory, MembershipFactory, TenantFactory

    tenant = TenantFactory(name="Nordlys Handel A/S", slug="nordlys")
    MembershipFactory(user=UserFactory(username="anna"), tenant=tenant, role=Role.ADMIN)
    connection = ConnectionFactory(tenant=tenant, name="Old webCRM", system="webcrm", credentials={"api_key": "k"})
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)

    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/t/nordlys/connections/")
    assert page.eval_on_selector(".actions.spread", "el => getComputedStyle(el).justifyContent") == "space-between"

    questions: list[str] = []

    def answer_no(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer_no)
    page.locator("#connections tr", has_text="Old webCRM").get_by_role("button", name="Delete").click()
    page.wait_for_load_state()
    assert questions == ["Delete this connection?"]
    assert Connection.objects.filter(pk=connection.pk).exists()

    page.get_by_role("link", name="Add a connection").click()
    page.select_option("#id_system", "webcrm")
    page.wait_for_selector("#id_credential_api_key")  # htmx swapped the fields in
    assert refused == []
