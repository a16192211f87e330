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
from integrations.systems.errors import NotFoundError, TransientError, VendorValidationError

from . import pending
from .context import CRM, SideContext, SyncContext
from .discounts import AMOUNT, Discount, DiscountFields, read_discount, write_discount
from .documents import Line, document_totals, to_decimal
from .limits import value_fit
from .mapping import as_synced, changed_fields, is_blank, payload_hash
from .matching import counterpart_id, link_for
from .outcome import Outcome, ids_for
from .unchanged import still_as_read

HEADER_ROLES = ("customer", "date", "currency", "description")
LINE_ROLES = ("item", "text", "quantity", "price", "discount", "vat", "cost", "list_price")
NUMERIC_LINE_ROLES = ("quantity", "price", "discount", "vat", "cost", "list_price")
#: Line roles of a discount beside ``discount`` (a percent): an amount off the whole line, and a type field
#: saying which of the two ``discount`` holds (Fortnox's ``DiscountType``). See ``discounts``.
DISCOUNT_ROLES = ("discount", "discount_amount", "discount_type")
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
    fields = discount_fields(line_spec)
    for line in lines:
        item = {}
        for role in LINE_ROLES:
            name = line_spec.role(role) if line_spec else None
            value = line.get(name) if name else None
            item[role] = to_decimal(value) if role in NUMERIC_LINE_ROLES and not is_blank(value) else value
        if fields.any:
            discount = read_discount(line, fields, quantity=item.get("quantity"), price=item.get("price"))
            if discount.kind == AMOUNT and not discount.is_zero:
                item["discount"], item["discount_amount"] = None, discount.value
            elif not discount.is_zero:
                item["discount"] = discount.value
        doc["lines"].append(item)
    return doc


def discount_fields(line_spec: EntitySpec | None) -> DiscountFields:
    """Where ``line_spec``'s lines keep their discount (roles ``discount``, ``discount_amount``, ``discount_type``)."""
    if line_spec is None:
        return DiscountFields()
    percent, amount, type_field = (line_spec.role(role) for role in DISCOUNT_ROLES)
    writable = frozenset(name for name in (percent, amount, type_field) if name and not _read_only(line_spec, name))
    return DiscountFields(percent=percent, amount=amount, type_field=type_field, writable=writable)


def line_discount(line: dict[str, Any]) -> Discount:
    """A neutral line's discount: an amount when ``discount_amount`` is set, else the percent in ``discount``."""
    if not is_blank(line.get("discount_amount")):
        return Discount.amount(line["discount_amount"])
    return Discount.percent(line.get("discount") or 0)


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
                                            discount=line_discount(line),
                                            vat_percent=line.get("vat") or 0, cost_price=line.get("cost") or 0)
                           for line in doc["lines"])


def to_vendor(side: SideContext, doc: dict[str, Any], *, entity: Entity, notes: list[str] | None = None) -> Record:
    """A neutral document written in ``side``'s field names; roles ``side`` does not have are left out.

    Text longer than its field holds is shortened at a word boundary (documents have no mapping rows to say
    otherwise); each shortening is added to ``notes`` in words for the log.
    """
    spec, line_spec = side.spec, _line_spec(side, entity)
    record: Record = {}
    for role in HEADER_ROLES:
        name = spec.role(role) if spec else None
        if name and not is_blank(doc.get(role)) and not _read_only(spec, name):
            record[name] = _fit(spec, name, doc[role], notes)
    lines = []
    fields = discount_fields(line_spec)
    for index, line in enumerate(doc["lines"], start=1):
        row = {}
        for role in LINE_ROLES:
            name = line_spec.role(role) if line_spec else None
            if role == "discount" and fields.any:
                continue
            if name and not is_blank(line.get(role)) and not _read_only(line_spec, name):
                row[name] = _fit(line_spec, name, line[role], notes, line=index)
        if fields.any and not (is_blank(line.get("discount")) and is_blank(line.get("discount_amount"))):
            row.update(write_discount(line_discount(line), quantity=line.get("quantity") or 0,
                                      price=line.get("price") or 0, fields=fields))
        position = line_spec.role("position") if line_spec else None
        if position and not _read_only(line_spec, position):
            row[position] = index
        lines.append(row)
    record["lines"] = lines
    return record


def _fit(spec: EntitySpec | None, name: str, value: Any, notes: list[str] | None, *, line: int = 0) -> Any:
    fitted = value_fit(value, target=spec.field(name) if spec else None)
    if fitted.note and notes is not None:
        notes.append(f"Line {line}: {fitted.note}" if line else fitted.note)
    return fitted.value


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
    if link is not None and link.crm_hash == source_hash and not link.pending:
        return Outcome("echo", "No change since the last sync (or it was our own write).",
                       **ids_for(source, external_id, link.erp_id), label=label)
    resumed = pending.Resumed()
    if link is not None and not link.erp_id:
        linked_side = _side_for(target, Entity(link.entity))
        key = pending.create_sent_before(link, linked_side)
        if key is not None:
            resumed = pending.created_before(linked_side, key)
            if resumed.record is not None:  # made by the attempt whose answer was lost: linked, then compared
                link.erp_id = linked_side.record_id(resumed.record)
                link.pending = {"write_back": CRM}
                link.save(update_fields=["erp_id", "pending"])
    if link is not None and link.erp_id and link.entity == Entity.INVOICE and \
            _booked(_side_for(target, Entity.INVOICE), link):
        return Outcome(LogAction.SKIPPED, f"Invoice {link.erp_id} in {target.name} is booked; a booked invoice is "
                       "never changed. Make a credit note in the ERP instead.", **ids_for(source, external_id,
                                                                                       link.erp_id), label=label)
    doc = neutral(source, record)
    customer = _organisation(ctx, source=source, target=target, value=doc["customer"])
    if customer is None:
        return Outcome(LogAction.SKIPPED, f"The delivery's organisation ({doc['customer']}) is not synced to "
                       f"{target.name} yet; replay the delivery once it is.", **ids_for(source, external_id, ""),
                       label=label, replayable=True)
    doc["customer"] = customer
    # An ERP whose API cannot make invoices (Uniconta's REST face) gets the sales order, invoiced there by a person.
    as_invoice = ctx.entity_sync.delivery_target == "invoice" and target.client.can_create(Entity.INVOICE)
    linked_entity = Entity(link.entity) if link is not None else None
    target_side = _side_for(target, linked_entity or (Entity.INVOICE if as_invoice else Entity.DELIVERY))
    # Some ERPs make invoices only from orders (Uniconta posts an order): then the order's fields are written.
    customer_field = target_side.role_field("customer")
    write_side = target_side
    if target_side.entity == Entity.INVOICE and (not customer_field or _read_only(target_side.spec, customer_field)):
        write_side = _side_for(target, Entity.DELIVERY)
    fit_notes: list[str] = []
    values = to_vendor(write_side, doc, entity=write_side.entity, notes=fit_notes)
    order_type = target_side.role_field("order_type")
    if order_type and ctx.entity_sync.outgoing_order_type:
        values[order_type] = ctx.entity_sync.outgoing_order_type
    if as_invoice and _order_invoicing(target) is not None and (link is None or link.entity == Entity.DELIVERY):
        return _delivery_invoiced_from_order(ctx, source=source, target=target, record=record,
                                             external_id=external_id, doc=doc, order_link=link, label=label)
    if link is None or not link.erp_id:
        if link is None:
            _refuse_second_document(source, target, record)
        key = pending.sync_key(source, external_id)
        key_field = write_side.role_field(pending.KEY_ROLE)
        if key_field:
            values[key_field] = key
        link = pending.create_intent(ctx, link=link, entity=target_side.entity, source=source, source_id=external_id,
                                     target=target_side, key=key, label=label)
        created = target_side.client.create_record(target_side.entity, values)
        target_id = target_side.record_id(created)
        with transaction.atomic():
            link.erp_id, link.erp_hash, link.pending = target_id, document_hash(target_side, created), \
                {"write_back": CRM}
            link.save(update_fields=["erp_id", "erp_hash", "pending"])
            order_field = target_side.role_field("order_number")
            if write_side is not target_side and order_field and not is_blank(created.get(order_field)):
                # The order the ERP invoiced from is ours too: its notices must not make a second delivery.
                SyncLink.objects.get_or_create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                                               entity=Entity.DELIVERY, erp_id=str(created[order_field]),
                                               defaults={"crm_id": external_id, "label": label})
        updated = _write_back(ctx, crm=source, erp=target_side, delivery=record, document=created, link=link)
        _remember(link, crm=source, erp=target_side, delivery=updated, document=created)
        what = "invoice" if target_side.entity == Entity.INVOICE else "sales order"
        waits = (f" {target.name}'s API cannot post invoices, so the order waits there to be invoiced."
                 if ctx.entity_sync.delivery_target == "invoice" and target_side.entity != Entity.INVOICE else "")
        return Outcome(LogAction.CREATED, f"Created {what} {target_id} in {target.name} with "
                       f"{len(doc['lines'])} line{'s' if len(doc['lines']) != 1 else ''}.{waits}"
                       + "".join(f" {note}" for note in fit_notes),
                       **ids_for(source, external_id, target_id), label=label, writes=2,
                       changes={"lines": [None, len(doc["lines"])], **{k: [None, str(v)] for k, v in
                                                                         totals_of(doc).as_dict().items()}})
    current = target_side.client.get_record(target_side.entity, link.erp_id)
    state = locked_state(target_side, current)
    if state is not None:
        return Outcome(LogAction.SKIPPED, _left_alone(target_side, target.name, link.erp_id, state, meanwhile=False),
                       **ids_for(source, external_id, link.erp_id), label=label)
    before = _comparable(neutral(target_side, current))
    key_field = target_side.role_field(pending.KEY_ROLE)
    if key_field and key_field in values and not is_blank(current.get(key_field)):
        values.pop(key_field)  # the key an order was made with stays as it was
    after = _comparable(neutral(target_side, {**current, **values}))
    changes = changed_fields(before, after)
    duplicates = pending.duplicates_note(target_side, resumed.duplicates)
    if not changes:
        finishing = bool(link.pending)  # a create or write-back an earlier attempt did not see through
        if finishing:
            record = _write_back(ctx, crm=source, erp=target_side, delivery=record, document=current, link=link)
        _remember(link, crm=source, erp=target_side, delivery=record, document=current)
        if finishing:
            what = "Invoice" if target_side.entity == Entity.INVOICE else "Sales order"
            return Outcome(LogAction.CREATED, " ".join(filter(None, [
                f"{what} {link.erp_id} in {target.name} was made by an earlier attempt that stopped before it was "
                "finished (found by Synkro's key); it is linked and webCRM has its number now. Nothing was created "
                "twice.", duplicates])), **ids_for(source, external_id, link.erp_id), label=label, writes=1)
        return Outcome(LogAction.SKIPPED, f"{target.name} already holds the same order.",
                       **ids_for(source, external_id, link.erp_id), label=label)
    try:
        updated_document = as_synced(current, values, target_side.client.update_record(
            target_side.entity, link.erp_id, values, check=still_as_read(current, values, system=target.name)))
    except (VendorValidationError, NotFoundError):
        # Refused: booked, cancelled or invoiced between our read and our write? Then it is left alone.
        state = _locked_after_refusal(target_side, link.erp_id)
        if state is None:
            raise
        return Outcome(LogAction.SKIPPED, _left_alone(target_side, target.name, link.erp_id, state),
                       **ids_for(source, external_id, link.erp_id), label=label)
    updated = _write_back(ctx, crm=source, erp=target_side, delivery=record, document=updated_document, link=link)
    _remember(link, crm=source, erp=target_side, delivery=updated, document=updated_document)
    return Outcome(LogAction.UPDATED, " ".join([f"Updated sales order {link.erp_id} in {target.name}.", *fit_notes]),
                   **ids_for(source, external_id, link.erp_id), label=label, writes=2,
                   changes={k: [str(v[0]), str(v[1])] for k, v in changes.items()})


def _refuse_second_document(source: SideContext, target: SideContext, record: Record) -> None:
    """An unlinked delivery that already names an ERP document gets no second one.

    A delivery Synkro makes from an ERP order or invoice carries that document's number (``DeliveryErpId``) from
    its first write; webCRM's Create notice of it can be handled by another worker before the link is stored. So
    a named document means "wait for the link" (a transient error: retried, then parked in words), never a create.
    """
    field = source.role_field("erp_id")
    named = str(record.get(field) or "").strip() if field else ""
    if named:
        raise TransientError(
            f"The delivery already names {target.name} document {named}, but Synkro holds no link for it yet, so "
            f"it creates no second document. If the link does not appear, link the delivery or clear its ERP id "
            f"in webCRM, then replay.", system=source.system)


def _order_invoicing(target: SideContext):
    """The ERP's own action that turns a sales order into its invoice (Fortnox's ``createinvoice``), or None.

    A client offers it as ``invoice_from_order(order_id) -> invoice record``; where it exists, a delivery
    sent as an invoice goes the ERP's way: order first, then the ERP invoices that order.
    """
    action = getattr(target.client, "invoice_from_order", None)
    return action if callable(action) else None


def _delivery_invoiced_from_order(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
                                  external_id: str, doc: dict[str, Any], order_link: SyncLink | None, label: str):
    """The delivery becomes an ERP sales order with all its lines, and the ERP turns that order into its invoice.

    Both are linked to the delivery (the order's link and the invoice's), so neither comes back as a new
    delivery. A link to the order alone means an earlier attempt stopped between the two steps, or the
    delivery went over as an order before the setting said invoice: that order is invoiced now, or, when the
    ERP has invoiced it already (its invoice reference is set), its invoice is linked instead of making another.
    Returns an ``Outcome``.
    """
    orders, invoices = _side_for(target, Entity.DELIVERY), _side_for(target, Entity.INVOICE)
    writes = 0
    notes: list[str] = []
    if order_link is None:
        values = to_vendor(orders, doc, entity=Entity.DELIVERY, notes=notes)
        order_type = orders.role_field("order_type")
        if order_type and ctx.entity_sync.outgoing_order_type:
            values[order_type] = ctx.entity_sync.outgoing_order_type
        order = orders.client.create_record(Entity.DELIVERY, values)
        writes += 1
        order_link = SyncLink.objects.create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                                             entity=Entity.DELIVERY, crm_id=external_id,
                                             erp_id=orders.record_id(order), label=label,
                                             erp_hash=document_hash(orders, order))
    else:
        order = orders.client.get_record(Entity.DELIVERY, order_link.erp_id)
    order_id = order_link.erp_id
    invoiced_field = orders.role_field("invoice_date")  # Fortnox: the order's InvoiceReference
    reference = order.get(invoiced_field) if invoiced_field else None
    if not is_blank(reference) and str(reference) != "0":
        invoice = invoices.client.get_record(Entity.INVOICE, str(reference))
        made = f"{target.name} had invoiced order {order_id} already: linked its invoice"
    else:
        invoice = _order_invoicing(target)(order_id)
        writes += 1
        made = f"Sent order {order_id} to {target.name}, which invoiced it"
    invoice_id = invoices.record_id(invoice)
    invoice_link, _ = SyncLink.objects.get_or_create(
        tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=Entity.INVOICE, erp_id=invoice_id,
        defaults={"crm_id": external_id, "label": label})
    if invoice_link.crm_id != external_id:
        return Outcome(LogAction.SKIPPED, f"Invoice {invoice_id} of order {order_id} in {target.name} belongs to "
                       f"another webCRM delivery ({invoice_link.crm_id}); nothing was linked. Check the order.",
                       **ids_for(source, external_id, invoice_id), label=label, writes=writes)
    updated = _write_back(ctx, crm=source, erp=invoices, delivery=record, document=invoice, link=invoice_link)
    _remember(invoice_link, crm=source, erp=invoices, delivery=updated, document=invoice)
    _remember(order_link, crm=source, erp=orders, delivery=updated, document=order)
    lines = len(doc["lines"])
    return Outcome(LogAction.CREATED, f"{made}: invoice {invoice_id} with {lines} line{'s' if lines != 1 else ''}."
                   + "".join(f" {note}" for note in notes),
                   **ids_for(source, external_id, invoice_id), label=label, writes=writes + 1,
                   changes={"lines": [None, lines], **{k: [None, str(v)] for k, v in totals_of(doc).as_dict().items()}})


#: Statuses in which an ERP no longer lets a document change, by document: released (booked) invoices (Visma.net:
#: Open, Closed, Voided …) and orders that are completed, cancelled or invoiced.
LOCKED_STATUSES = {
    Entity.INVOICE: frozenset({"Open", "Closed", "Voided", "Scheduled", "PendingPrint", "PendingEmail", "Reserved"}),
    Entity.DELIVERY: frozenset({"Completed", "Cancelled", "Invoiced", "Closed"}),
}


def locked_state(side: SideContext, document: Record, *, refused: bool = False) -> str | None:
    """Why ``side``'s ERP would refuse a change to ``document``: "booked", "cancelled", "invoiced", or None.

    Read from the document's roles: ``booked`` (a flag), ``cancelled`` (a flag), ``status`` (see
    ``LOCKED_STATUSES``) and, once the ERP has ``refused`` a write, an order's ``invoice_date`` (an invoice made
    from it; some ERPs keep invoicing an order in parts, so that alone does not stop a write before trying).
    """
    def flag(role: str) -> bool:
        name = side.role_field(role)
        value = document.get(name) if name else None
        return bool(value) and str(value).lower() not in ("false", "0")

    if flag("cancelled"):
        return "cancelled"
    if side.entity == Entity.INVOICE and flag("booked"):
        return "booked"
    status_field = side.role_field("status")
    status = document.get(status_field) if status_field else None
    if status in LOCKED_STATUSES.get(side.entity, ()):
        if side.entity == Entity.INVOICE:
            return "cancelled" if status == "Voided" else "booked"
        return "cancelled" if status == "Cancelled" else "invoiced"
    invoiced = side.role_field("invoice_date")
    if refused and side.entity == Entity.DELIVERY and invoiced and str(document.get(invoiced) or "0") != "0":
        return "invoiced"
    return None


def _locked_after_refusal(side: SideContext, document_id: str) -> str | None:
    """After a refused write: the document read again, and the reason it is locked now (None: not locked)."""
    try:
        current = side.client.get_record(side.entity, document_id)
    except NotFoundError:
        return None
    return locked_state(side, current, refused=True)


def _left_alone(side: SideContext, system_name: str, document_id: str, state: str, *, meanwhile: bool = True) -> str:
    """The skip's words for a locked document: found so on reading it, or locked between our read and our write."""
    if side.entity == Entity.INVOICE:
        if not meanwhile:
            return (f"Invoice {document_id} in {system_name} is {state}; a booked invoice is never changed. Make a "
                    "credit note in the ERP instead.")
        return (f"Invoice {document_id} was {state} in {system_name} meanwhile; left alone. A booked invoice is "
                "never changed: make a credit note in the ERP instead.")
    if not meanwhile:
        return f"Sales order {document_id} in {system_name} is {state}; the ERP no longer accepts changes to it."
    return (f"Sales order {document_id} was {state} in {system_name} meanwhile; left alone. The ERP no longer "
            "accepts changes to it.")


def _booked(invoices: SideContext, link: SyncLink) -> bool:
    """Whether the linked invoice is booked; an ERP without a "booked" flag books every invoice it has."""
    if not invoices.role_field("booked") and not invoices.role_field("status"):
        return True
    current = invoices.client.get_record(invoices.entity, link.erp_id)
    return locked_state(invoices, current) is not None


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
    return as_synced(delivery, values, crm.client.update_record(crm.entity, crm.record_id(delivery), values))


def _remember(link: SyncLink, *, crm: SideContext, erp: SideContext, delivery: Record, document: Record) -> None:
    """Both sides' digests after every write of the plan is done (so nothing is pending any more)."""
    link.crm_hash = document_hash(crm, delivery)
    link.erp_hash = document_hash(erp, document)
    link.synced_at = timezone.now()
    link.pending = {}
    link.save(update_fields=["crm_hash", "erp_hash", "synced_at", "pending"])


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
    if link is None:
        ours = _made_by_synkro(ctx, source=source, record=record, external_id=external_id, label=label)
        if ours is not None:
            return ours
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
        return Outcome(LogAction.SKIPPED, f"The customer {doc['customer']} is not synced to webCRM yet; replay the "
                       f"{'invoice' if invoice else 'order'} once it is.", **ids_for(source, external_id, ""),
                       label=label, replayable=True)
    doc["customer"] = organisation
    if invoice:
        doc["description"] = "faktura"
    fit_notes: list[str] = []
    values = to_vendor(target, doc, entity=Entity.DELIVERY, notes=fit_notes)
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
        return Outcome(LogAction.CREATED, " ".join([f"Created a delivery in webCRM from {label.lower()} "
                                                    f"({len(doc['lines'])} lines, total {totals.total}).",
                                                    *fit_notes]), **ids_for(source, external_id, crm_id),
                       label=label, writes=1, changes={k: [None, str(v)] for k, v in totals.as_dict().items()})
    current = target.client.get_record(target.entity, link.crm_id)
    updated = as_synced(current, values, target.client.update_record(
        target.entity, link.crm_id, values, check=still_as_read(current, values, system=target.name)))
    _remember(link, crm=target, erp=source, delivery=updated, document=record)
    changes = changed_fields({k: current.get(k) for k in values if k != "lines"},
                             {k: v for k, v in values.items() if k != "lines"})
    return Outcome(LogAction.UPDATED, " ".join([f"Updated the webCRM delivery from {label.lower()}.", *fit_notes]),
                   **ids_for(source, external_id, link.crm_id), label=label, writes=1, changes=changes)


def _made_by_synkro(ctx: SyncContext, *, source: SideContext, record: Record, external_id: str,
                    label: str) -> Outcome | None:
    """An unlinked ERP document that carries Synkro's key (``pending``) was made by Synkro from a webCRM delivery:
    never a new delivery. Returns None for a document without the key.

    Its notice can come before the create's answer, or instead of it when the answer was lost: the half-made link
    waiting for that key gets the document's id (the delivery's own sync then finishes the write-back). A document
    whose key names a delivery linked to another document is a copy an earlier attempt made: said, left alone.
    """
    key_field = source.role_field(pending.KEY_ROLE)
    key = str(record.get(key_field) or "").strip() if key_field else ""
    if not key:
        return None
    waiting = (SyncLink.objects.filter(integration=ctx.integration, entity=source.entity, erp_id="")
               .filter(pending__create__key=key).first())
    if waiting is not None:
        waiting.erp_id = external_id
        waiting.pending = {"write_back": CRM}
        waiting.save(update_fields=["erp_id", "pending"])
        return Outcome("echo", f"Made by Synkro from webCRM delivery {waiting.crm_id}; linked to it.",
                       **ids_for(source, external_id, waiting.crm_id), label=label)
    return Outcome(LogAction.SKIPPED, f"{label} carries Synkro's key «{key}» but no webCRM delivery waits for it: "
                   f"it looks like a copy made by an earlier attempt whose answer was lost, so no delivery is made "
                   f"from it. Check it in {source.name} and delete it if it is a copy.",
                   **ids_for(source, external_id, ""), label=label)


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
