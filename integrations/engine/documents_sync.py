"""Deliveries ↔ sales orders and invoices, always with their lines.

Documents differ too much between vendors for row-by-row field mappings, so each system's catalog
names its document fields by role (customer, date, lines' item, quantity, price …) and documents are
translated through one neutral shape. The rules of the design:

- a webCRM delivery marked ready goes to the ERP as a sales order or as an invoice (a setting), with
  all its lines; the ERP's number and state come back onto the delivery;
- ERP orders and invoices come back as deliveries when their order type is accepted (SO, IN); an
  invoice gets the description "faktura" and a closed status; an invoice made from a linked order
  updates that order's delivery instead of making a new one;
- a booked invoice is never written; totals, VAT, DB and DB % are computed with ``decimal``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import LogAction, SyncLink
from integrations.systems.base import Record
from integrations.systems.catalog import Entity, EntitySpec
from integrations.systems.errors import NotFoundError

from .context import CRM, SideContext, SyncContext
from .documents import Line, document_totals, to_decimal
from .mapping import changed_fields, is_blank, payload_hash
from .matching import counterpart_id, link_for
from .outcome import Outcome, ids_for

HEADER_ROLES = ("customer", "date", "currency", "description")
LINE_ROLES = ("item", "text", "quantity", "price", "discount", "vat", "cost", "list_price")
NUMERIC_LINE_ROLES = ("quantity", "price", "discount", "vat", "cost", "list_price")
DOCUMENT_ENTITIES = (Entity.DELIVERY, Entity.INVOICE)
#: webCRM's closed delivery status, given to deliveries made from ERP invoices.
CLOSED_STATUS = "Completed"
OPEN_STATUS = "OnGoing"


def _line_spec(side: SideContext, entity: Entity) -> EntitySpec | None:
    catalog = side.provider.catalog()
    line_entity = Entity.INVOICE_LINE if entity == Entity.INVOICE else Entity.DELIVERY_LINE
    return catalog.entity(line_entity) or catalog.entity(Entity.DELIVERY_LINE)


def _side_for(side: SideContext, entity: Entity) -> SideContext:
    """The same system seen as another document entity (a sales order side seen as its invoices)."""
    if side.entity == entity:
        return side
    spec = side.provider.catalog().entity(entity)
    other = replace(side, entity=entity, spec=spec)
    if "client" in side.__dict__:
        other.__dict__["client"] = side.__dict__["client"]
    return other


def neutral(side: SideContext, record: Record) -> dict[str, Any]:
    """A document in neutral terms: header roles and lines (ordered), numbers as decimals."""
    spec, line_spec = side.spec, _line_spec(side, side.entity)
    doc: dict[str, Any] = {}
    for role in HEADER_ROLES:
        name = spec.role(role) if spec else None
        doc[role] = record.get(name) if name else None
    lines = list(record.get("lines") or [])
    position = line_spec.role("position") if line_spec else None
    if position:
        lines.sort(key=lambda line: to_decimal(line.get(position)))
    doc["lines"] = []
    for line in lines:
        item = {}
        for role in LINE_ROLES:
            name = line_spec.role(role) if line_spec else None
            value = line.get(name) if name else None
            item[role] = to_decimal(value) if role in NUMERIC_LINE_ROLES and not is_blank(value) else value
        doc["lines"].append(item)
    return doc


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A neutral document with empty line roles left out, for change detection."""
    header = {k: v for k, v in doc.items() if k != "lines"}
    return {**header, "lines": [{k: v for k, v in line.items() if v is not None} for line in doc["lines"]]}


def document_hash(side: SideContext, record: Record) -> str:
    doc = neutral(side, record)
    lines = [{k: v for k, v in line.items() if not is_blank(v)} for line in doc["lines"]]
    return payload_hash({**{k: v for k, v in doc.items() if k != "lines"}, "lines": lines})


def totals_of(doc: dict[str, Any]):
    return document_totals(Line.from_values(quantity=line.get("quantity") or 0, price=line.get("price") or 0,
                                            discount_percent=line.get("discount") or 0,
                                            vat_percent=line.get("vat") or 0, cost_price=line.get("cost") or 0)
                           for line in doc["lines"])


def to_vendor(side: SideContext, doc: dict[str, Any], *, entity: Entity) -> Record:
    """A neutral document written in ``side``'s field names; roles ``side`` does not have are left out."""
    spec, line_spec = side.spec, _line_spec(side, entity)
    record: Record = {}
    for role in HEADER_ROLES:
        name = spec.role(role) if spec else None
        if name and not is_blank(doc.get(role)) and not _read_only(spec, name):
            record[name] = doc[role]
    lines = []
    for index, line in enumerate(doc["lines"], start=1):
        row = {}
        for role in LINE_ROLES:
            name = line_spec.role(role) if line_spec else None
            if name and not is_blank(line.get(role)) and not _read_only(line_spec, name):
                row[name] = line[role]
        position = line_spec.role("position") if line_spec else None
        if position and not _read_only(line_spec, position):
            row[position] = index
        lines.append(row)
    record["lines"] = lines
    return record


def _read_only(spec: EntitySpec | None, name: str) -> bool:
    field = spec.field(name) if spec else None
    return bool(field and field.read_only)


def _organisation(ctx: SyncContext, *, source: SideContext, target: SideContext, value: Any) -> str | None:
    if is_blank(value):
        return None
    return counterpart_id(ctx, source=source, target=target, source_id=value) or None


def document_sync(ctx: SyncContext, *, source: SideContext, target: SideContext, flow: str, external_id: str,
                  action: str):
    """Sync one document; returns an ``Outcome``."""
    if action == "deleted":
        return Outcome(LogAction.SKIPPED, "Deleted documents are not carried over: accounting keeps its history.",
                       **ids_for(source, external_id, ""))
    try:
        record = source.client.get_record(source.entity, external_id)
    except NotFoundError:
        return Outcome(LogAction.SKIPPED, f"The document no longer exists in {source.name}.",
                       **ids_for(source, external_id, ""))
    if source.role == CRM:
        return _delivery_to_erp(ctx, source=source, target=target, record=record, external_id=external_id)
    return _erp_document_to_delivery(ctx, source=source, target=target, record=record, external_id=external_id)


def _delivery_to_erp(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
                     external_id: str):
    label = f"Delivery {record.get(source.role_field('number')) or external_id}"
    sync_status = source.role_field("sync_status")
    if sync_status and record.get(sync_status) == "NotReadyForSynchronization":
        return Outcome(LogAction.SKIPPED, "The delivery is not marked ready for the ERP yet.",
                       **ids_for(source, external_id, ""), label=label)
    # Once invoiced, the invoice speaks for the delivery (its sales order is history).
    link = (link_for(ctx, source, external_id, (Entity.INVOICE,))
            or link_for(ctx, source, external_id, (Entity.DELIVERY,)))
    source_hash = document_hash(source, record)
    if link is not None and link.crm_hash == source_hash:
        return Outcome("echo", "No change since the last sync (or it was our own write).",
                       **ids_for(source, external_id, link.erp_id), label=label)
    if link is not None and link.entity == Entity.INVOICE and _booked(_side_for(target, Entity.INVOICE), link):
        return Outcome(LogAction.SKIPPED, f"Invoice {link.erp_id} in {target.name} is booked; a booked invoice is "
                       "never changed. Make a credit note in the ERP instead.", **ids_for(source, external_id,
                                                                                       link.erp_id), label=label)
    doc = neutral(source, record)
    customer = _organisation(ctx, source=source, target=target, value=doc["customer"])
    if customer is None:
        return Outcome(LogAction.SKIPPED, f"The delivery's organisation ({doc['customer']}) is not synced to "
                       f"{target.name} yet; the delivery follows once it is.", **ids_for(source, external_id, ""),
                       label=label)
    doc["customer"] = customer
    as_invoice = ctx.entity_sync.delivery_target == "invoice"
    linked_entity = Entity(link.entity) if link is not None else None
    target_side = _side_for(target, linked_entity or (Entity.INVOICE if as_invoice else Entity.DELIVERY))
    # Some ERPs make invoices only from orders (Uniconta posts an order): then the order's fields are written.
    customer_field = target_side.role_field("customer")
    write_side = target_side
    if target_side.entity == Entity.INVOICE and (not customer_field or _read_only(target_side.spec, customer_field)):
        write_side = _side_for(target, Entity.DELIVERY)
    values = to_vendor(write_side, doc, entity=write_side.entity)
    order_type = target_side.role_field("order_type")
    if order_type and ctx.entity_sync.outgoing_order_type:
        values[order_type] = ctx.entity_sync.outgoing_order_type
    if link is None:
        created = target_side.client.create_record(target_side.entity, values)
        target_id = target_side.record_id(created)
        with transaction.atomic():
            link = SyncLink.objects.create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                                           entity=target_side.entity, crm_id=external_id, erp_id=target_id,
                                           label=label, erp_hash=document_hash(target_side, created))
            order_field = target_side.role_field("order_number")
            if write_side is not target_side and order_field and not is_blank(created.get(order_field)):
                # The order the ERP invoiced from is ours too: its notices must not make a second delivery.
                SyncLink.objects.get_or_create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                                               entity=Entity.DELIVERY, erp_id=str(created[order_field]),
                                               defaults={"crm_id": external_id, "label": label})
        updated = _write_back(ctx, crm=source, erp=target_side, delivery=record, document=created, link=link)
        _remember(link, crm=source, erp=target_side, delivery=updated, document=created)
        what = "invoice" if target_side.entity == Entity.INVOICE else "sales order"
        return Outcome(LogAction.CREATED, f"Created {what} {target_id} in {target.name} with "
                       f"{len(doc['lines'])} line{'s' if len(doc['lines']) != 1 else ''}.",
                       **ids_for(source, external_id, target_id), label=label, writes=2,
                       changes={"lines": [None, len(doc["lines"])], **{k: [None, str(v)] for k, v in
                                                                         totals_of(doc).as_dict().items()}})
    current = target_side.client.get_record(target_side.entity, link.erp_id)
    before = _comparable(neutral(target_side, current))
    after = _comparable(neutral(target_side, {**current, **values}))
    changes = changed_fields(before, after)
    if not changes:
        _remember(link, crm=source, erp=target_side, delivery=record, document=current)
        return Outcome(LogAction.SKIPPED, f"{target.name} already holds the same order.",
                       **ids_for(source, external_id, link.erp_id), label=label)
    updated_document = target_side.client.update_record(target_side.entity, link.erp_id, values)
    updated = _write_back(ctx, crm=source, erp=target_side, delivery=record, document=updated_document, link=link)
    _remember(link, crm=source, erp=target_side, delivery=updated, document=updated_document)
    return Outcome(LogAction.UPDATED, f"Updated sales order {link.erp_id} in {target.name}.",
                   **ids_for(source, external_id, link.erp_id), label=label, writes=2,
                   changes={k: [str(v[0]), str(v[1])] for k, v in changes.items()})


def _booked(invoices: SideContext, link: SyncLink) -> bool:
    """Whether the linked invoice is booked; an ERP without a "booked" flag books every invoice it has."""
    field = invoices.role_field("booked")
    if not field:
        return True
    current = invoices.client.get_record(invoices.entity, link.erp_id)
    value = current.get(field)
    return bool(value) and str(value).lower() not in ("false", "0")


def _state_text(erp: SideContext, document: Record) -> str:
    number = erp.record_id(document)
    if erp.entity == Entity.INVOICE:
        status, booked = erp.role_field("status"), erp.role_field("booked")
        if status and not is_blank(document.get(status)):
            return f"Invoice {number} · {document[status]}"
        if booked and not document.get(booked):
            return f"Invoice {number} · not booked"
        return f"Invoice {number} · booked"
    invoiced = erp.role_field("invoice_date")
    if invoiced and not is_blank(document.get(invoiced)):
        return f"Sales order {number} · invoiced"
    return f"Sales order {number} · open"


def _write_back(ctx: SyncContext, *, crm: SideContext, erp: SideContext, delivery: Record, document: Record,
                link: SyncLink) -> Record:
    """ERP-only facts flow back onto the delivery: its number, state, sync status and totals."""
    values: dict[str, Any] = {}
    for role, value in (("erp_id", erp.record_id(document)), ("erp_state", _state_text(erp, document)),
                        ("sync_status", "Synchronized"), ("erp_synced_at", timezone.now())):
        name = crm.role_field(role)
        if name:
            values[name] = value
    totals = totals_of(neutral(crm, delivery))
    for role, value in (("total", totals.total), ("margin", totals.margin)):
        name = crm.role_field(role)
        if name:
            values[name] = value
    if not changed_fields({k: delivery.get(k) for k in values}, values):
        return delivery
    return crm.client.update_record(crm.entity, crm.record_id(delivery), values)


def _remember(link: SyncLink, *, crm: SideContext, erp: SideContext, delivery: Record, document: Record) -> None:
    link.crm_hash = document_hash(crm, delivery)
    link.erp_hash = document_hash(erp, document)
    link.synced_at = timezone.now()
    link.save(update_fields=["crm_hash", "erp_hash", "synced_at"])


def _erp_document_to_delivery(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
                              external_id: str):
    invoice = source.entity == Entity.INVOICE
    label = f"{'Invoice' if invoice else 'Sales order'} {external_id}"
    order_type_field = source.role_field("order_type")
    order_type = record.get(order_type_field) if order_type_field else ("IN" if invoice else "SO")
    accepted = _accepted_types(ctx)
    if accepted and str(order_type) not in accepted:
        return Outcome(LogAction.SKIPPED, f"Order type {order_type} is not among the types brought back to "
                       f"webCRM ({', '.join(accepted)}).", **ids_for(source, external_id, ""), label=label)
    link = link_for(ctx, source, external_id, (source.entity,))
    if link is None and invoice:
        link = _adopt_order_delivery(ctx, source=source, record=record, external_id=external_id)
    source_hash = document_hash(source, record)
    if link is not None and link.erp_hash == source_hash:
        return Outcome("echo", "No change since the last sync (or it was our own write).",
                       **ids_for(source, external_id, link.crm_id), label=label)
    if link is not None and not invoice and link_for(ctx, target, link.crm_id, (Entity.INVOICE,)) is not None:
        return Outcome("echo", "The delivery's invoice speaks for it now; its order is history.",
                       **ids_for(source, external_id, link.crm_id), label=label)
    doc = neutral(source, record)
    organisation = _organisation(ctx, source=source, target=target, value=doc["customer"])
    if organisation is None:
        return Outcome(LogAction.SKIPPED, f"The customer {doc['customer']} is not synced to webCRM yet; the "
                       f"{'invoice' if invoice else 'order'} follows once it is.", **ids_for(source, external_id, ""),
                       label=label)
    doc["customer"] = organisation
    if invoice:
        doc["description"] = "faktura"
    values = to_vendor(target, doc, entity=Entity.DELIVERY)
    status = target.role_field("status")
    if status:
        values[status] = CLOSED_STATUS if invoice else OPEN_STATUS
    totals = totals_of(doc)
    for role, value in (("total", totals.total), ("margin", totals.margin), ("erp_id", external_id),
                        ("erp_state", _state_text(source, record)), ("sync_status", "Synchronized")):
        name = target.role_field(role)
        if name:
            values[name] = value
    if link is None:
        created = target.client.create_record(target.entity, values)
        crm_id = target.record_id(created)
        link = SyncLink.objects.create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                                       entity=source.entity, crm_id=crm_id, erp_id=external_id, label=label)
        _remember(link, crm=target, erp=source, delivery=created, document=record)
        return Outcome(LogAction.CREATED, f"Created a delivery in webCRM from {label.lower()} "
                       f"({len(doc['lines'])} lines, total {totals.total}).", **ids_for(source, external_id, crm_id),
                       label=label, writes=1, changes={k: [None, str(v)] for k, v in totals.as_dict().items()})
    current = target.client.get_record(target.entity, link.crm_id)
    updated = target.client.update_record(target.entity, link.crm_id, values)
    _remember(link, crm=target, erp=source, delivery=updated, document=record)
    changes = changed_fields({k: current.get(k) for k in values if k != "lines"},
                             {k: v for k, v in values.items() if k != "lines"})
    return Outcome(LogAction.UPDATED, f"Updated the webCRM delivery from {label.lower()}.",
                   **ids_for(source, external_id, link.crm_id), label=label, writes=1, changes=changes)


def _accepted_types(ctx: SyncContext) -> list[str]:
    from mappings.models import EntitySync

    delivery = EntitySync.objects.filter(integration=ctx.integration, entity=Entity.DELIVERY).first()
    return [str(t) for t in (delivery.accepted_order_types if delivery else []) if str(t).strip()]


def _adopt_order_delivery(ctx: SyncContext, *, source: SideContext, record: Record,
                          external_id: str) -> SyncLink | None:
    """An invoice made from a linked sales order belongs to that order's delivery."""
    order_field = source.role_field("order_number")
    order_number = record.get(order_field) if order_field else None
    if is_blank(order_number):
        return None
    order_link = SyncLink.objects.filter(integration=ctx.integration, entity=Entity.DELIVERY,
                                         erp_id=str(order_number)).first()
    if order_link is None:
        return None
    return SyncLink.objects.create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                                   entity=Entity.INVOICE, crm_id=order_link.crm_id, erp_id=external_id,
                                   label=f"Invoice {external_id}")
