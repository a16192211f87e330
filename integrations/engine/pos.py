"""Customers 1st → Uniconta: customers and items with the shop's defaults, POS sales, the daily report.

- Customers and items made at the till get the default debtor or item group when they are created in
  the ERP; an item's style number, size, colour, custom fields 1–4 and alternative barcode go to the
  Uniconta user fields named in the POS settings (xStyleNo, xSize …). A user field the company lacks is
  refused by Uniconta in plain words and logged; nothing crashes.
- A completed POS sale becomes a sales order with its lines (prices excl. VAT, discounts folded onto the
  discounted line), on the sale's debtor or the default POS debtor, and is invoiced at once when the
  setting for its kind of sale (cash or debtor) is on. Booked once per sale, however often it is announced.
- The daily report posts each register's day to the POS journal: cash against the cash GL account,
  the counted difference and the øre rounding on their own account. Once per register and day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import LogAction, PosDailyReport, SyncLink
from integrations.systems.base import Record
from integrations.systems.catalog import Entity

from .context import SideContext, SyncContext
from .documents import money, to_decimal
from .log import log_entry_create
from .mapping import is_blank
from .matching import counterpart_id
from .outcome import Outcome

#: Customers 1st product field → the key of ``PosSettings.variant_fields`` naming its Uniconta user field.
VARIANT_SOURCES = {"styleno": "style_no", "size": "size", "color": "color", "customfield1": "custom1",
                   "customfield2": "custom2", "customfield3": "custom3", "customfield4": "custom4",
                   "alternativebarcode": "barcode"}
PRICE_PLACES = Decimal("0.0001")


def pos_settings_of(ctx: SyncContext):
    return getattr(ctx.integration, "pos_settings", None)


def pos_values(ctx: SyncContext, *, source: SideContext, record: Record, values: dict[str, Any],
               creating: bool) -> dict[str, Any]:
    """The POS settings' contribution to a customer or item going to the ERP: groups and variant fields."""
    settings = pos_settings_of(ctx)
    if settings is None or source.role != "crm":
        return values
    values = dict(values)
    if ctx.entity == Entity.ITEM:
        for field, key in VARIANT_SOURCES.items():
            target = (settings.variant_fields or {}).get(key)
            if target and not is_blank(record.get(field)):
                values[target] = record[field]
        if creating and settings.default_item_group:
            values.setdefault("Group", settings.default_item_group)
    elif ctx.entity == Entity.ORGANISATION and creating and settings.default_debtor_group:
        values.setdefault("Group", settings.default_debtor_group)
    return values


# -- POS sales ---------------------------------------------------------------------------------------

def _excl_vat(article: Record) -> Decimal:
    if not is_blank(article.get("pricewithoutvat")):
        return to_decimal(article["pricewithoutvat"])
    vat = to_decimal(article.get("vat"))
    return (to_decimal(article.get("price")) * 100 / (100 + vat)).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def _is_discount(article: Record) -> bool:
    return not is_blank(article.get("discountedToken")) and to_decimal(article.get("price")) < 0


def order_lines(sale: Record) -> list[Record]:
    """The sale's articles as Uniconta order lines; discount lines become the discounted line's Discount."""
    articles = list(sale.get("lines") or [])
    discounts: dict[str, Decimal] = defaultdict(Decimal)
    for article in articles:
        if _is_discount(article):
            discounts[str(article["discountedToken"])] += -_excl_vat(article) * to_decimal(article.get("quantity"))
    lines = []
    for article in articles:
        if _is_discount(article):
            continue
        number = article.get("productno") or article.get("product.productno")
        line = {"Text": article.get("title"), "Qty": to_decimal(article.get("quantity")), "Price": _excl_vat(article)}
        if not is_blank(number):
            line["Item"] = str(number)
        if not is_blank(article.get("costprice")):
            line["CostPrice"] = to_decimal(article["costprice"])
        discount = discounts.get(str(article.get("discountToken")))
        if discount:
            line["Discount"] = money(discount)
        lines.append(line)
    return lines


def sale_kind(sale: Record, *, cash_name: str, debtor_name: str) -> str:
    """"debtor" for a sale on account (by payment type name or the invoice flag); "cash" otherwise."""
    names = {str(p.get("title") or "").strip().casefold() for p in sale.get("paymenttypes") or []}
    if debtor_name.strip().casefold() in names or int(sale.get("invoice") or 0) == 1:
        return "debtor"
    return "cash"


def cash_rounding_of(sale: Record, *, cash_name: str) -> Decimal:
    """What the till rounded away on cash (øre/öre): paid in cash less what the cash part should have been."""
    cash = [p for p in sale.get("paymenttypes") or []
            if p.get("cash") or str(p.get("title") or "").strip().casefold() == cash_name.strip().casefold()]
    if not cash:
        return Decimal("0.00")
    paid = sum((to_decimal(p.get("amount")) for p in sale.get("paymenttypes") or []), Decimal(0))
    return money(paid - to_decimal(sale.get("sum")))


def pos_sale_sync(ctx: SyncContext, *, source: SideContext, target: SideContext, external_id: str, action: str):
    """Book one POS sale in the ERP (once), and invoice it when the settings say so."""
    ids = {"crm_id": external_id}
    if action == "deleted":
        return Outcome(LogAction.SKIPPED, "A deleted POS sale is not carried over: the books keep their history.",
                       **ids)
    link = SyncLink.objects.filter(integration=ctx.integration, entity=Entity.POS_SALE, crm_id=external_id).first()
    if link is not None:
        return Outcome("echo", f"Already booked as sales order {link.erp_id}.", **ids, erp_id=link.erp_id)
    settings = pos_settings_of(ctx)
    sale = source.client.get_record(Entity.POS_SALE, external_id)
    label = f"POS sale {sale.get('paymentno') or external_id}"
    if str(sale.get("status") or "completed") != "completed":
        return Outcome(LogAction.SKIPPED, f"The sale is {sale.get('status')}, not completed.", **ids, label=label)
    debtor, on = _debtor_for(ctx, sale, settings)
    if debtor is None:
        return Outcome(LogAction.SKIPPED, "The sale has no customer and the POS settings name no default POS "
                       "debtor. Set one under POS settings, then replay.", **ids, label=label, replayable=True)
    reference = f"POS {sale.get('paymentno') or external_id}"
    existing = target.client.find_records(Entity.POS_SALE, "YourRef", reference)
    if existing:  # booked before a crash kept us from linking it
        order = existing[0]
    else:
        order = target.client.create_record(Entity.POS_SALE, {
            "Account": debtor, "YourRef": reference, "Remark": f"{sale.get('cashregister.title') or ''} "
            f"{sale.get('date') or ''}".strip(), "lines": order_lines(sale)})
    order_number = str(order["OrderNumber"])
    SyncLink.objects.create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration,
                            entity=Entity.POS_SALE, crm_id=external_id, erp_id=order_number, label=label,
                            synced_at=timezone.now())
    kind = sale_kind(sale, cash_name=settings.cash_payment_name, debtor_name=settings.debtor_payment_name)
    auto = settings.auto_invoice_cash_sales if kind == "cash" else settings.auto_invoice_debtor_sales
    reason = f"Booked as sales order {order_number} on {on} {debtor}"
    writes = 0 if existing else 1
    if auto:
        # Uniconta's REST API has no invoice posting (that is its .NET InvoiceAPI): the order waits in Uniconta.
        reason += f"; invoice it in {target.name}, whose API cannot post invoices"
    else:
        reason += f"; left as an order (auto-invoicing of {kind} sales is off)"
    rounding = cash_rounding_of(sale, cash_name=settings.cash_payment_name)
    changes = {"total": [None, str(money(to_decimal(sale.get("sum"))))], "kind": [None, kind]}
    if rounding:
        changes["cash rounding"] = [None, str(rounding)]
    return Outcome(LogAction.CREATED, reason + ".", **ids, erp_id=order_number, label=label, changes=changes,
                   writes=writes)


def _debtor_for(ctx: SyncContext, sale: Record, settings) -> tuple[str | None, str]:
    customer = sale.get("customerid")
    if not is_blank(customer):
        debtor = counterpart_id(ctx, source=ctx.crm, target=ctx.erp, source_id=customer)
        if debtor:
            return debtor, "the customer's debtor"
    if settings.default_pos_debtor:
        return settings.default_pos_debtor, "the default POS debtor"
    return None, ""


# -- the daily report -------------------------------------------------------------------------------

def _day_of(balance: Record) -> dt.date:
    value = balance.get("date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def report_lines(*, balances: list[Record], settings, register, day: dt.date, voucher: int) -> tuple[list, dict]:
    """The journal lines of one register's day, and its totals. Balanced by construction."""
    cash_account = (register.cash_gl_account if register and register.cash_gl_account else settings.cash_gl_account)
    name = register.name if register else balances[0].get("cashregistertitle") or ""
    revenue = sum((to_decimal(b.get("totalrevenue")) for b in balances), Decimal(0))
    cash = sum((to_decimal(b.get("cashrevenue")) for b in balances), Decimal(0))
    difference = sum((to_decimal(b.get("cashdifference")) for b in balances), Decimal(0))
    by_type: dict[str, Decimal] = defaultdict(Decimal)
    for balance in balances:
        for payment in balance.get("paymenttypes") or []:
            by_type[str(payment.get("title"))] += to_decimal(payment.get("amount"))
    rounding = money(sum(by_type.values(), Decimal(0)) - revenue) if by_type else Decimal("0.00")
    base = {"Journal": settings.pos_journal, "Date": day.isoformat(), "Voucher": voucher}
    lines = []
    if cash:
        # The till's cash settles what the POS debtor owes for the day's cash sales.
        lines.append({**base, "Text": f"POS {name} {day:%d.%m.%Y} kontant", "AccountType": "Finans",
                      "Account": cash_account, "OffsetAccountType": "Debtor",
                      "OffsetAccount": settings.default_pos_debtor, "Debit": money(cash)})
    if difference:
        lines.append({**base, "Text": f"POS {name} {day:%d.%m.%Y} kassedifference", "AccountType": "Finans",
                      "Account": cash_account, "OffsetAccountType": "Finans",
                      "OffsetAccount": settings.difference_gl_account, "Debit": money(difference)})
    if rounding:
        lines.append({**base, "Text": f"POS {name} {day:%d.%m.%Y} øreafrunding", "AccountType": "Finans",
                      "Account": settings.difference_gl_account, "OffsetAccountType": "Debtor",
                      "OffsetAccount": settings.default_pos_debtor, "Debit": money(-rounding)})
    totals = {"revenue": str(money(revenue)), "cash": str(money(cash)), "difference": str(money(difference)),
              "rounding": str(rounding), "by_payment_type": {k: str(money(v)) for k, v in sorted(by_type.items())}}
    return lines, totals


def daily_report_post(ctx: SyncContext, *, day: dt.date, register_ids: list[str] | None = None,
                      event=None, run=None) -> list[PosDailyReport]:
    """Post each register's closings of ``day`` to the POS journal; a register and day already posted is left."""
    settings = pos_settings_of(ctx)
    problems = _report_settings_problems(settings)
    if problems:
        log_entry_create(integration=ctx.integration, entity=Entity.DAILY_REPORT, action=LogAction.FAILED,
                         direction="to_erp", reason=f"The daily report of {day} could not be posted.",
                         error="Fill in under POS settings: " + ", ".join(problems) + ".", event=event, run=run)
        return []
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    balances = [b for b in ctx.crm.client.list_records(Entity.DAILY_REPORT, modified_since=start)
                if _day_of(b) == day]
    by_register: dict[str, list[Record]] = defaultdict(list)
    for balance in balances:
        by_register[str(balance.get("cashregisterid"))].append(balance)
    registers = {r.register_id: r for r in settings.registers.all()}
    posted = []
    for register_id in sorted(by_register):
        if register_ids is not None and register_id not in register_ids:
            continue
        if PosDailyReport.objects.filter(integration=ctx.integration, register_id=register_id,
                                         business_date=day).exists():
            continue
        report = _post_one(ctx, settings=settings, register=registers.get(register_id), register_id=register_id,
                           day=day, balances=by_register[register_id], event=event, run=run)
        if report is not None:
            posted.append(report)
    return posted


def _report_settings_problems(settings) -> list[str]:
    if settings is None:
        return ["POS settings"]
    needed = {"POS journal": settings.pos_journal, "cash GL account": settings.cash_gl_account,
              "GL account for cash differences and rounding": settings.difference_gl_account,
              "default POS debtor": settings.default_pos_debtor}
    return [label for label, value in needed.items() if not value]


def _post_one(ctx: SyncContext, *, settings, register, register_id: str, day: dt.date, balances: list[Record],
              event, run) -> PosDailyReport | None:
    voucher = int(day.strftime("%y%m%d")) * 100 + (int(register_id) % 100 if register_id.isdigit() else 0)
    lines, totals = report_lines(balances=balances, settings=settings, register=register, day=day, voucher=voucher)
    name = register.name if register else f"register {register_id}"
    try:
        with transaction.atomic():
            # Claimed first: a second worker (or a second run) finds the row and posts nothing.
            report = PosDailyReport.objects.create(
                tenant_id=ctx.integration.tenant_id, integration=ctx.integration, register_id=register_id,
                business_date=day, balance_ids=[b.get("id") for b in balances], totals=totals)
    except IntegrityError:
        return None
    erp = ctx.erp.client
    try:
        if lines:
            # All of the day's lines in one list insert; posting the journal is a person's step in Uniconta, whose
            # REST API has no posting (that is its .NET PostingAPI).
            erp.create_records(Entity.DAILY_REPORT, lines)
    except Exception:
        report.delete()  # not written: the next run tries again
        raise
    log_entry_create(
        integration=ctx.integration, entity=Entity.DAILY_REPORT, action=LogAction.CREATED, direction="to_erp",
        crm_id=",".join(str(b.get("id")) for b in balances), erp_id=report.posting_id or settings.pos_journal,
        label=f"Daily report {name} {day}",
        reason=(f"Wrote the day of {name} to journal {settings.pos_journal} ({len(lines)} lines, ready to post in "
                f"{ctx.erp.name}): revenue {totals['revenue']}, cash {totals['cash']}, difference "
                f"{totals['difference']}, rounding {totals['rounding']}."
                if lines else f"Nothing to post for {name} on {day}."),
        changes={k: [None, v] for k, v in totals.items() if k != "by_payment_type"}, event=event, run=run)
    return report


def daily_report_due(*, integration, now=None) -> dt.date | None:
    """The business day whose report is due now (today, once the configured time has passed)."""
    settings = getattr(integration, "pos_settings", None)
    if settings is None or settings.daily_report_time is None:
        return None
    now = timezone.localtime(now or timezone.now())
    if now.time() < settings.daily_report_time:
        return None
    return now.date()
