"""Forms for connections and integrations. Secret credentials are write-only: never rendered back."""

from __future__ import annotations

from typing import Any

from django import forms

from tenants.access import scoped
from tenants.models import Tenant

from .models import Connection, Integration, integration_pair_errors
from .services import (
    integration_activation_refusals,
    integration_save,
    integration_switched_on,
    secrets_to_enter_again,
)
from .systems.base import CREDENTIAL_MAX_LENGTH
from .systems.hosts import base_url_problem
from .systems.registry import get_system, system_choices

CREDENTIAL_PREFIX = "credential_"
#: Credentials that come from connecting through the vendor's consent page, never typed: a token kept from an old
#: grant must not outlive new credentials typed over it.
GRANTED_CREDENTIALS = ("access_token", "access_token_expires_at")
#: The value the "System" choice posts (htmx) to ask for the credential fields of another system.
SWITCH_SYSTEM = "system"


class ConnectionForm(forms.ModelForm):
    """Name, address and the credentials of the chosen system, one field each.

    ``connecting``: the form is submitted to connect through the vendor's consent page (Fortnox), so the typed
    credentials are neither required nor used.
    """

    base_url = forms.URLField(label="Base URL", required=False, max_length=300, assume_scheme="https")

    class Meta:
        model = Connection
        fields = ["system", "name", "base_url"]

    def __init__(self, *args: Any, tenant: Tenant, system: str | None = None, connecting: bool = False,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.connecting = connecting
        self.fields["system"].choices = [("", "Choose a system…"), *system_choices()]
        editing = self.instance.pk is not None
        if editing:
            self.fields["system"].disabled = True
            system = self.instance.system
        else:
            system = self.data.get("system") or system or self.initial.get("system")
        self.system_key = system if system in dict(system_choices()) else None
        if not editing and self.system_key:
            self.initial.setdefault("system", self.system_key)  # ?system=fortnox arrives with Fortnox chosen
        # A POST of the system choice alone: typed secrets never travel in a URL, nor for another system.
        self.fields["system"].widget.attrs.update({
            "hx-post": "", "hx-target": "#credential-fields", "hx-select": "#credential-fields",
            "hx-swap": "outerHTML", "hx-params": "system,switch", "hx-vals": f'{{"switch": "{SWITCH_SYSTEM}"}}',
        })
        if not self.system_key:
            return
        provider = get_system(self.system_key)
        self.fields["base_url"].help_text = f"Leave empty for {provider.default_base_url}"
        stored = self.instance.credentials if editing else {}
        for spec in provider.credential_fields:
            name = CREDENTIAL_PREFIX + spec.name
            already_set = bool(stored.get(spec.name))
            if spec.secret:
                field = forms.CharField(
                    label=spec.label, required=spec.required and not already_set, strip=True,
                    max_length=CREDENTIAL_MAX_LENGTH,
                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                    help_text=("Stored. Leave empty to keep it. " if already_set else "") + spec.help,
                )
            else:
                field = forms.CharField(label=spec.label, required=spec.required, initial=stored.get(spec.name),
                                        help_text=spec.help, max_length=CREDENTIAL_MAX_LENGTH)
            if connecting:
                field.required = False
            self.fields[name] = field

    @property
    def offers_consent(self) -> bool:
        """Whether the chosen system is connected through its consent page ("Connect to Fortnox")."""
        return self.system_key == "fortnox"

    def needs_test(self) -> bool:
        """Whether saving this (valid) form is to be tested first: a new connection, new credentials, a new address."""
        return self.instance.pk is None or bool(self.changed_credentials()) or "base_url" in self.changed_data

    def credential_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(CREDENTIAL_PREFIX)]

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(CREDENTIAL_PREFIX)]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        clash = scoped(Connection, self.tenant).filter(name=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another connection of this tenant already has this name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.system_key or "base_url" not in cleaned:
            return cleaned
        provider = get_system(self.system_key)
        base_url = cleaned.get("base_url") or ""
        problem = base_url_problem(base_url or provider.default_base_url, provider=provider)
        if problem:
            self.add_error("base_url", problem)
            return cleaned
        if self.connecting:
            return cleaned  # connecting replaces every credential: none has to be entered again
        missing = secrets_to_enter_again(connection=self.instance, base_url=base_url,
                                         given=set(self.changed_credentials()))
        if missing:
            labels = {f.name: f.label for f in provider.credential_fields}
            for name in missing:
                self.add_error(CREDENTIAL_PREFIX + name, "Enter this again: the base URL now points to another host.")
            self.add_error("base_url", "Stored secrets are sent only to the host they were entered for. To move this "
                                       f"connection, enter again: {', '.join(labels[n] for n in missing)}.")
        return cleaned

    def changed_credentials(self) -> list[str]:
        """Names of the credentials this submission sets (for the audit, never their values)."""
        return [name[len(CREDENTIAL_PREFIX):] for name in self.fields
                if name.startswith(CREDENTIAL_PREFIX) and getattr(self, "cleaned_data", {}).get(name)]

    def save(self, commit: bool = True) -> Connection:
        connection: Connection = super().save(commit=False)
        connection.tenant = self.tenant
        credentials = dict(connection.credentials or {})
        for name in self.fields:
            if name.startswith(CREDENTIAL_PREFIX):
                value = self.cleaned_data.get(name)
                key = name[len(CREDENTIAL_PREFIX):]
                if value:
                    credentials[key] = value
                elif not isinstance(self.fields[name].widget, forms.PasswordInput):
                    credentials.pop(key, None)
        if credentials != connection.credentials:
            for name in GRANTED_CREDENTIALS:
                credentials.pop(name, None)
        if credentials != connection.credentials or "base_url" in self.changed_data:
            connection.status = "untested"
            connection.status_detail = ""
            connection.last_error = ""
        connection.credentials = credentials
        if commit:
            connection.save()
        return connection


class IntegrationForm(forms.ModelForm):
    guard_share = forms.IntegerField(
        required=False, min_value=1, max_value=100, label=Integration._meta.get_field("guard_share").verbose_name,
        help_text=Integration._meta.get_field("guard_share").help_text + " Between 1 and 100; 5 when left empty.")
    guard_minimum = forms.IntegerField(
        required=False, min_value=1, max_value=1_000_000,
        label=Integration._meta.get_field("guard_minimum").verbose_name,
        help_text=Integration._meta.get_field("guard_minimum").help_text + " At least 1; 20 when left empty.")

    class Meta:
        model = Integration
        fields = ["name", "crm_connection", "erp_connection", "active", "guard_share", "guard_minimum"]

    def __init__(self, *args: Any, tenant: Tenant, user: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.user = user  # who saves it: an activation or a pause is audited with their name
        self.fields["crm_connection"].queryset = scoped(Connection, tenant)
        self.fields["erp_connection"].queryset = scoped(Connection, tenant)

    def clean_guard_share(self) -> int:
        value = self.cleaned_data.get("guard_share")
        return value if value is not None else (self.instance.guard_share if self.instance.pk else 5)

    def clean_guard_minimum(self) -> int:
        value = self.cleaned_data.get("guard_minimum")
        return value if value is not None else (self.instance.guard_minimum if self.instance.pk else 20)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if scoped(Integration, self.tenant).filter(name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another integration of this tenant already has this name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field, message in integration_pair_errors(
            tenant_id=self.tenant.pk, crm=cleaned.get("crm_connection"), erp=cleaned.get("erp_connection")
        ).items():
            self.add_error(field, message)
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        self.instance.tenant = self.tenant
        if integration_switched_on(self.instance):
            for reason in integration_activation_refusals(integration=self.instance):
                self.add_error("active", reason)

    def save(self, commit: bool = True) -> Integration:
        integration: Integration = super().save(commit=False)
        integration.tenant = self.tenant
        if commit:
            integration_save(integration=integration, user=self.user)
        return integration
