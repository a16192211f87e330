"""Screens of an integration's configuration: entity tabs, mapping rows, webhooks, schedules, POS, audit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from integrations.models import Integration
from tenants.access import get_scoped_or_404, scoped
from tenants.decorators import can_configure, tenant_view

from .audit import change_words, changes_described
from .forms import EntitySettingsForm, MappingRowForm, PosRegisterForm, PosSettingsForm, ScheduleForm, apply_problems
from .models import ConfigChange, EntitySync, FieldMapping, PosRegister, PosSettings, WebhookToggle
from .selectors import direction_label, entity_sides, integration_entities
from .services import (
    ConfigInvalid,
    entity_length_warnings,
    entity_problems,
    entity_rows_refusing_longer,
    entity_sync_update,
    field_mapping_add,
    field_mapping_remove,
    pos_register_add,
    pos_register_remove,
    pos_settings_update,
    webhook_toggle_set,
)


def _integration(request: HttpRequest, integration_id: int) -> Integration:
    queryset = scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection")
    return get_scoped_or_404(queryset, request.tenant, pk=integration_id)


def _entity_sync(request: HttpRequest, integration: Integration, entity: str) -> EntitySync:
    return get_scoped_or_404(scoped(EntitySync, request.tenant).select_related("integration"), request.tenant,
                             integration=integration, entity=entity)


def describe_changes(changes: dict[str, list], *, integration: Integration) -> str:
    """“Direction: Off → Two way; Sync only organisations of type: none → “Kunde”” for the flash message, in the
    screen's words (``audit.changes_described``)."""
    return changes_described(integration=integration, changes=changes)


def _tab_context(request: HttpRequest, integration: Integration, entity_sync: EntitySync, **extra) -> dict:
    front, erp = entity_sides(entity_sync)
    context = {
        "integration": integration, "entity_sync": entity_sync,
        "tabs": scoped(EntitySync, request.tenant).filter(integration=integration),
        "mappings": entity_sync.field_mappings.all(), "front_name": front.system_name, "erp_name": erp.system_name,
        "row_form": MappingRowForm(entity_sync=entity_sync), "problems": entity_problems(entity_sync=entity_sync),
        "length_warnings": entity_length_warnings(entity_sync=entity_sync),
        "direction_label": direction_label(integration, entity_sync.direction), "section": "settings", **extra,
    }
    context["mapping_rows"] = mapping_rows(context["mappings"], row_form=context["row_form"],
                                           length_warnings=context["length_warnings"],
                                           always_refused=entity_rows_refusing_longer(entity_sync=entity_sync))
    return context


def mapping_rows(mappings, *, row_form: MappingRowForm, length_warnings: dict[object, list[str]],
                 always_refused: set[object] | frozenset[object] = frozenset()) -> list[dict]:
    """The mapping table's rows: each mapping with the catalog's labels of its two fields and its length notes.

    Returns ``[{"mapping": FieldMapping, "erp_label": "Name", "crm_label": "Organisation name", "warnings": [...],
    "refuses_longer": bool}]``; a label is "" where the catalog has none (the API name is then the only name shown);
    ``refuses_longer`` for a row set to refuse, or whose target never takes a shortened value (``always_refused``).
    """
    return [{"mapping": m, "erp_label": row_form.erp_labels.get(m.erp_field, ""),
             "crm_label": row_form.crm_labels.get(m.crm_field, ""), "warnings": length_warnings.get(m.pk, []),
             "refuses_longer": m.overflow == "refuse" or m.pk in always_refused}
            for m in mappings]


@tenant_view()
@require_safe
def entity_settings_index(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    first = integration_entities(integration)[0]
    return redirect("entity-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk, entity=first)


@tenant_view()
@require_http_methods(["GET", "HEAD", "POST"])
def entity_settings(request: HttpRequest, integration_id: int, entity: str) -> HttpResponse:
    integration = _integration(request, integration_id)
    entity_sync = _entity_sync(request, integration, entity)
    form = EntitySettingsForm(request.POST or None, instance=EntitySync.objects.get(pk=entity_sync.pk))
    if request.method == "POST":
        if not request.access.can_configure:
            raise PermissionDenied("Only administrators change the configuration.")
        if form.is_valid():
            try:
                changes = entity_sync_update(entity_sync=entity_sync, user=request.user, changes=form.changes())
            except ConfigInvalid as error:
                apply_problems(form, error)
            else:
                said = describe_changes(changes, integration=integration)
                messages.success(request, f"{entity_sync.get_entity_display()} saved — {said}.")
                return redirect("entity-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk,
                                entity=entity)
        return render(request, "mappings/entity_settings.html",
                      _tab_context(request, integration, entity_sync, form=form), status=400)
    return render(request, "mappings/entity_settings.html", _tab_context(request, integration, entity_sync, form=form))


@tenant_view(allow=can_configure)
@require_POST
def trigger_values_refresh(request: HttpRequest, integration_id: int, entity: str) -> HttpResponse:
    """“Refresh from webCRM”: read the organisation types (and statuses) the front system has again, then back to
    the tab. Nothing of the configuration changes."""
    from .trigger_values import trigger_values_for

    integration = _integration(request, integration_id)
    entity_sync = _entity_sync(request, integration, entity)
    fields = ["type"] + (["status"] if entity_sync.trigger_field == "status" else [])
    for trigger_field in fields:
        offer = trigger_values_for(entity_sync=entity_sync, trigger_field=trigger_field, refresh=True)
        if offer is None:
            messages.error(request, "Only organisations have trigger values to read.")
        elif offer.values is None or offer.note:
            messages.error(request, offer.note)
        else:
            messages.success(request, f"Read {len(offer.values)} {offer.words}s from {offer.system_name}: "
                                      f"{', '.join(offer.values)}.")
    return redirect("entity-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk, entity=entity)


@tenant_view(allow=can_configure)
@require_POST
def mapping_add(request: HttpRequest, integration_id: int, entity: str) -> HttpResponse:
    integration = _integration(request, integration_id)
    entity_sync = _entity_sync(request, integration, entity)
    row_form = MappingRowForm(request.POST, entity_sync=entity_sync)
    status = 200
    if row_form.is_valid():
        data = row_form.cleaned_data
        try:
            mapping = field_mapping_add(entity_sync=entity_sync, user=request.user, erp_field=data["erp_field"],
                                        crm_field=data["crm_field"], direction=data.get("direction") or "",
                                        value_map=data.get("value_map") or {}, required=data.get("required", False),
                                        overflow=data.get("overflow") or "shorten")
        except ConfigInvalid as error:
            apply_problems(row_form, error)
            status = 400
        else:
            row_form = MappingRowForm(entity_sync=entity_sync)
            messages.success(request, f"Added {mapping.erp_field} ↔ {mapping.crm_field}.")
    else:
        status = 400
    context = _tab_context(request, integration, entity_sync, row_form=row_form)
    if request.htmx:
        return render(request, "mappings/_mapping_table.html", context, status=status)
    if status == 200:
        return redirect("entity-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk,
                        entity=entity)
    context["form"] = EntitySettingsForm(instance=entity_sync)
    return render(request, "mappings/entity_settings.html", context, status=status)


@tenant_view(allow=can_configure)
@require_POST
def mapping_remove(request: HttpRequest, integration_id: int, mapping_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    mapping = get_scoped_or_404(scoped(FieldMapping, request.tenant).select_related("entity_sync__integration"),
                                request.tenant, pk=mapping_id, entity_sync__integration=integration)
    entity_sync = mapping.entity_sync
    status = 200
    try:
        field_mapping_remove(mapping=mapping, user=request.user)
        messages.success(request, f"Removed {mapping.erp_field} ↔ {mapping.crm_field}.")
    except ConfigInvalid as error:
        for problem in error.problems:
            messages.error(request, problem.message)
        status = 400
    if request.htmx:
        return render(request, "mappings/_mapping_table.html", _tab_context(request, integration, entity_sync),
                      status=status)
    return redirect("entity-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk,
                    entity=entity_sync.entity)


@tenant_view()
@require_safe
def webhook_settings(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    toggles = scoped(WebhookToggle, request.tenant).filter(integration=integration)
    systems = []
    for connection in (integration.crm_connection, integration.erp_connection):
        provider = connection.provider
        by_entity: dict[str, dict[str, WebhookToggle]] = {}
        for toggle in toggles:
            if toggle.system == connection.system:
                by_entity.setdefault(toggle.get_entity_display(), {})[toggle.action] = toggle
        rows = [(entity, [actions.get(a) for a in ("created", "updated", "deleted")])
                for entity, actions in by_entity.items()]
        systems.append({"connection": connection, "provider": provider, "rows": rows,
                        "url": integration.webhook_url(connection.system) if provider.has_webhooks else ""})
    return render(request, "mappings/webhooks.html",
                  {"integration": integration, "systems": systems, "section": "webhooks"})


@tenant_view(allow=lambda access: access.can_toggle_webhooks)
@require_POST
def webhook_toggle(request: HttpRequest, integration_id: int, toggle_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    toggle = get_scoped_or_404(WebhookToggle, request.tenant, pk=toggle_id, integration=integration)
    enabled = request.POST.get("enabled") in ("on", "true", "1")
    webhook_toggle_set(toggle=toggle, user=request.user, enabled=enabled)
    if request.htmx:
        return render(request, "mappings/_webhook_toggle.html", {"toggle": toggle, "integration": integration})
    messages.success(request, f"{toggle.get_entity_display()} {toggle.action} is now {'on' if enabled else 'off'}.")
    return redirect("webhook-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk)


@tenant_view()
@require_http_methods(["GET", "HEAD", "POST"])
def schedules(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    entity_syncs = list(scoped(EntitySync, request.tenant).filter(integration=integration))
    forms_ = [ScheduleForm(request.POST or None, instance=e, prefix=e.entity) for e in entity_syncs]
    if request.method == "POST":
        if not request.access.can_configure:
            raise PermissionDenied("Only administrators change the configuration.")
        if all(f.is_valid() for f in forms_):
            summary = []
            with transaction.atomic():
                for form in forms_:
                    changes = entity_sync_update(entity_sync=form.instance, user=request.user,
                                                 changes={k: form.cleaned_data[k] for k in form.Meta.fields})
                    if changes:
                        said = describe_changes(changes, integration=integration)
                        summary.append(f"{form.instance.get_entity_display()}: {said}")
            messages.success(request, "Schedules saved — " + ("; ".join(summary) or "nothing changed") + ".")
            return redirect("schedules", tenant_slug=request.tenant.slug, integration_id=integration.pk)
        return render(request, "mappings/schedules.html",
                      {"integration": integration, "forms": forms_, "section": "schedules"}, status=400)
    return render(request, "mappings/schedules.html", {"integration": integration, "forms": forms_,
                                                       "section": "schedules"})


def _pos_settings(request: HttpRequest, integration: Integration) -> PosSettings:
    settings_ = scoped(PosSettings, request.tenant).filter(integration=integration).first()
    if settings_ is None:
        raise Http404("This integration has no POS settings")
    return settings_


@tenant_view()
@require_http_methods(["GET", "HEAD", "POST"])
def pos_settings(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    pos = _pos_settings(request, integration)
    form = PosSettingsForm(request.POST or None, instance=PosSettings.objects.get(pk=pos.pk))
    status = 200
    if request.method == "POST":
        if not request.access.can_configure:
            raise PermissionDenied("Only administrators change the configuration.")
        if form.is_valid():
            changes = pos_settings_update(pos_settings=pos, user=request.user, changes=form.changes())
            messages.success(request, f"POS settings saved — {describe_changes(changes, integration=integration)}.")
            return redirect("pos-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk)
        status = 400
    return render(request, "mappings/pos_settings.html", {
        "integration": integration, "form": form, "pos": pos, "registers": pos.registers.all(),
        "register_form": PosRegisterForm(), "section": "pos"}, status=status)


@tenant_view(allow=can_configure)
@require_POST
def pos_register_create(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    pos = _pos_settings(request, integration)
    form = PosRegisterForm(request.POST)
    if form.is_valid():
        if pos.registers.filter(register_id=form.cleaned_data["register_id"]).exists():
            form.add_error("register_id", "This register is already listed.")
        else:
            pos_register_add(pos_settings=pos, user=request.user, **form.cleaned_data)
            messages.success(request, f"Register {form.cleaned_data['name']} added.")
            return redirect("pos-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk)
    return render(request, "mappings/pos_settings.html", {
        "integration": integration, "form": PosSettingsForm(instance=pos), "pos": pos,
        "registers": pos.registers.all(), "register_form": form, "section": "pos"}, status=400)


@tenant_view(allow=can_configure)
@require_POST
def pos_register_delete(request: HttpRequest, integration_id: int, register_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    register = get_scoped_or_404(PosRegister, request.tenant, pk=register_id, pos_settings__integration=integration)
    pos_register_remove(register=register, user=request.user)
    messages.success(request, f"Register {register.name} removed.")
    return redirect("pos-settings", tenant_slug=request.tenant.slug, integration_id=integration.pk)


@tenant_view()
@require_safe
def audit_log(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = _integration(request, integration_id)
    changes = (scoped(ConfigChange, request.tenant).filter(integration=integration)
               .select_related("user", "integration__crm_connection", "integration__erp_connection")[:500])
    entries = [{"change": change, "words": change_words(change)} for change in changes]
    return render(request, "mappings/audit.html", {"integration": integration, "changes": changes,
                                                    "entries": entries, "section": "audit"})
