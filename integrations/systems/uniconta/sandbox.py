"""A simulator of Uniconta's REST/OData face: same paths, Basic login, OData paging, error bodies, Change URLs.

Reads: ``GET /odata/<CompanyId>/<Entity>`` (``$filter``, ``$orderby``, ``$top``, ``$skip``; a ``value``
envelope and, past the server's page cap, ``odata.nextLink``) and ``GET /api/Entities[/Read]/<Entity>
?Name=&Value=``. Writes: ``POST|PUT|DELETE /api/Entities/{Insert|Update|Delete}/<Entity>`` with one entity
(a JSON object) and ``…/{InsertList|UpdateList|DeleteList}/<Entity>`` with several (a JSON array), each list
one transaction. There is no posting on this face (invoices and journals are posted in Uniconta, or through
its .NET API); a person's posting is :meth:`UnicontaCompany.post_invoice` / ``post_daily_journal``.
Change URLs are TableChangeEventClient rows, inserted through the same face
(or :meth:`UnicontaSandbox.subscribe`), and are called on every insert, update and delete.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Mapping, MutableMapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..sandbox import SandboxApp, SandboxError, restore_tables_meta, tables_collections, tables_meta
from .sandbox_odata import ODataError, parse_filter, parse_orderby, sort_rows
from .sandbox_store import UnicontaCompany
from .sandbox_tables import TABLES, Change, Row, UnicontaFault

#: The most rows one OData page carries; beyond it the feed answers with a next link.
SERVER_PAGE_CAP = 1000
DENIED = {"Message": "Authorization has been denied for this request."}
#: The most entities one ``…List`` call takes. Uniconta documents no limit (docs/vendors/uniconta.md, "List
#: inserts"); the sandbox refuses more than this, as a service with a request size limit would, so that a client
#: sending unbounded lists fails here first.
LIST_ROWS_MAX = 1000


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def wire(row: Row) -> Row:
    """A row as the REST face sends it: properties that are null are left out."""
    return {key: value for key, value in row.items() if value is not None}


def uniconta_response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=_to_json), status=status, mimetype="application/json",
                    headers=headers or {})


class UnicontaSandbox(SandboxApp):
    """One or more Uniconta companies and the API users allowed into them."""

    system = "uniconta"
    #: Uniconta publishes no REST limit; this generous one lets drills exercise the 429 path.
    default_rate_limit = (600, 60.0)
    rules = [
        Rule("/odata", endpoint="service_document", methods=["GET"]),
        Rule("/odata/<int:company_id>", endpoint="service_document", methods=["GET"]),
        Rule("/odata/<int:company_id>/<entity>", endpoint="odata_read", methods=["GET"]),
        Rule("/odata/<entity>", endpoint="odata_read", methods=["GET"]),
        Rule("/api/Entities/<entity>", endpoint="entities_read", methods=["GET"]),
        Rule("/api/Entities/Read/<entity>", endpoint="entities_read", methods=["GET"]),
        Rule("/api/Entities/Insert/<entity>", endpoint="entities_insert", methods=["POST"]),
        Rule("/api/Entities/Update/<entity>", endpoint="entities_update", methods=["PUT"]),
        Rule("/api/Entities/Delete/<entity>", endpoint="entities_delete", methods=["DELETE"]),
        Rule("/api/Entities/InsertList/<entity>", endpoint="entities_insert_list", methods=["POST"]),
        Rule("/api/Entities/UpdateList/<entity>", endpoint="entities_update_list", methods=["PUT"]),
        Rule("/api/Entities/DeleteList/<entity>", endpoint="entities_delete_list", methods=["DELETE"]),
    ]

    def __init__(self, **knobs: Any):
        super().__init__(**knobs)
        self.companies: dict[str, UnicontaCompany] = {"1234": UnicontaCompany("1234")}
        #: login → (password, companies the login may open)
        self.logins: dict[str, tuple[str, set[str]]] = {"synkro": ("demo-password", {"1234"})}

    # -- drill and test helpers ------------------------------------------------------------------------
    def company(self, company_id: str = "1234") -> UnicontaCompany:
        return self.companies[company_id]

    def invoice_order(self, order_number: Any, company_id: str = "1234", invoice_date: Any = None) -> Row:
        """A person invoices a sales order in Uniconta: the invoice is posted and the Change URLs are called."""
        company = self.company(company_id)
        with self.lock:
            header, lines, changes = company.post_invoice(order_number, invoice_date)
        self._notify(company, changes)
        return {**wire(header), "lines": [wire(line) for line in lines]}

    def add_login(self, login: str, password: str, companies: Iterable[str] = ("1234",)) -> None:
        with self.lock:
            for company_id in companies:
                self.companies.setdefault(company_id, UnicontaCompany(company_id))
            self.logins[login] = (password, set(companies))

    def set_password(self, login: str, password: str) -> None:
        """Change (or, with a random value, revoke) an API user's password, as an administrator would."""
        with self.lock:
            self.logins[login] = (password, self.logins[login][1])

    def subscribe(self, url: str, *, table: str = "", use_post: bool = True, argument: str = "",
                  company_id: str = "1234") -> Row:
        """Add a Change URL row, as Company → Maintenance → Change URL does."""
        with self.lock:
            row, _changes = self.company(company_id).insert(
                "TableChangeEventClient", {"Table": table, "Url": url, "UsePost": use_post, "Argument": argument})
            return dict(row)

    def seed_demo(self) -> None:
        from .demo import seed_demo_company

        with self.lock:
            seed_demo_company(self.company("1234"))

    # -- what a restart keeps (the demo's data in var/; :mod:`..sandbox_state`) -------------------------
    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]:
        kept: dict[str, MutableMapping[Any, Any]] = {}
        for company_id, company in self.companies.items():
            kept.update(tables_collections(company_id, company.tables))
            kept[f"{company_id}:series"] = company.series
            kept[f"{company_id}:user_fields"] = company.user_fields
        return kept

    def persistent_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for company_id, company in self.companies.items():
            meta.update(tables_meta(company_id, company.tables))
            meta[f"{company_id}:last_stamp"] = company._last_stamp
        return meta

    def restore_state(self, collections: Mapping[str, Mapping[Any, Any]], meta: Mapping[str, Any]) -> None:
        super().restore_state(collections, meta)
        for company_id, company in self.companies.items():
            restore_tables_meta(company_id, company.tables, meta)
            company._last_stamp = meta.get(f"{company_id}:last_stamp", company._last_stamp)

    # -- the vendor's answers ----------------------------------------------------------------------------
    def rate_limited_response(self, retry_after: float) -> Response:
        seconds = max(1, math.ceil(retry_after))
        return uniconta_response({"Message": f"Too many requests. Retry after {seconds} seconds."}, status=429,
                                 headers={"Retry-After": str(seconds)})

    def server_error_response(self, status: int = 503) -> Response:
        message = "The service is unavailable." if status == 503 else "An error has occurred."
        return uniconta_response({"Message": message}, status=status)

    def not_found_response(self) -> Response:
        return uniconta_response({"Message": "No HTTP resource was found that matches the request URI."},
                                 status=404)

    def dispatch(self, request: Request) -> Response:
        forced = self.forced_response()
        if forced is not None:
            return forced
        try:
            return super().dispatch(request)
        except UnicontaFault as fault:
            return uniconta_response(fault.body(), status=fault.status)

    # -- login -------------------------------------------------------------------------------------------
    def _login(self, request: Request, company_id: int | None = None) -> UnicontaCompany:
        """HTTP Basic with ``00<CompanyId>/<login>``; the company in the path wins over the one in the login."""
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            username, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username = password = ""
        wanted = str(company_id) if company_id is not None else None
        login = username
        if username.startswith("00") and "/" in username:
            login_company, _, login = username[2:].partition("/")
            wanted = wanted or login_company
        known = self.logins.get(login)
        if scheme.lower() != "basic" or known is None or known[0] != password:
            raise self._denied()
        wanted = wanted or sorted(known[1])[0]
        if wanted not in known[1] or wanted not in self.companies:
            raise self._denied()
        return self.companies[wanted]

    def _denied(self) -> SandboxError:
        return SandboxError(401, DENIED, headers={"WWW-Authenticate": 'Basic realm="Uniconta"'})

    def _table(self, entity: str) -> str:
        if entity not in TABLES:
            raise SandboxError(404, {"Message": f"No type was found that matches the entity named '{entity}'."})
        return entity

    def _body(self, request: Request) -> Any:
        try:
            return json.loads(request.get_data() or b"null", parse_float=Decimal)
        except ValueError:
            raise SandboxError(400, {"Message": "The request is invalid."}) from None

    # -- reads ---------------------------------------------------------------------------------------------
    def service_document(self, request: Request, company_id: int | None = None) -> Response:
        company = self._login(request, company_id)
        root = f"{request.url_root}odata/{company.company_id}/"
        return uniconta_response({"odata.metadata": f"{root}$metadata",
                                  "value": [{"name": name, "url": name} for name in sorted(TABLES)]})

    def odata_read(self, request: Request, entity: str, company_id: int | None = None) -> Response:
        company = self._login(request, company_id)
        vendor_name = self._table(entity)
        args = request.args
        type_name = f"Uniconta.ClientTools.DataModel.{vendor_name}"
        try:
            with self.lock:
                fields = company.fields_of(vendor_name)
                keep = parse_filter(args.get("$filter"), fields | {"RowId"}, type_name)
                order = parse_orderby(args.get("$orderby"), fields | {"RowId"}, type_name) or [("RowId", False)]
                top = int(args["$top"]) if args.get("$top") else None
                skip = int(args.get("$skip") or 0)
                if (top is not None and top < 0) or skip < 0:
                    raise ODataError("$top and $skip must be zero or more.")
                size = min(top, SERVER_PAGE_CAP) if top is not None else SERVER_PAGE_CAP
                if not (args.get("$filter") or "").strip() and order == [("RowId", False)]:
                    page, total = company.page_by_row_id(vendor_name, skip, size)  # no filter: only the page is read
                else:
                    rows = sort_rows([dict(r) for r in company.read(vendor_name, args.get("$filter")) if keep(r)],
                                     order)
                    page, total = rows[skip:skip + size], len(rows)
        except (ODataError, ValueError) as error:
            return uniconta_response({"odata.error": {"code": "", "message": {"lang": "en-US", "value": str(error)}}},
                                     status=400)
        body: dict[str, Any] = {"odata.metadata": f"{request.url_root}odata/{company.company_id}/$metadata#"
                                                  f"{vendor_name}", "value": [wire(r) for r in page]}
        capped = top is None or top > SERVER_PAGE_CAP
        if capped and skip + size < total:
            params = {k: v for k, v in args.items() if k not in ("$skip", "$top")}
            params["$skip"] = str(skip + size)
            if top is not None:
                params["$top"] = str(top - size)
            body["odata.nextLink"] = (f"{request.url_root}odata/{company.company_id}/{vendor_name}?"
                                      f"{urlencode(params)}")
        return uniconta_response(body)

    def entities_read(self, request: Request, entity: str) -> Response:
        """``?Name=Account&Value=2001``: the rows whose property equals the value, as a JSON array."""
        company = self._login(request)
        vendor_name = self._table(entity)
        name, value = request.args.get("Name"), request.args.get("Value")
        with self.lock:
            rows = [wire(r) for r in company.rows(vendor_name)
                    if name is None or str(r.get(name)) == value]
        return uniconta_response(rows)

    # -- writes --------------------------------------------------------------------------------------------
    def _write(self, request: Request, entity: str, operation: str, *, many: bool) -> Response:
        """One entity (``Insert``/``Update``/``Delete``: a JSON object) or several (``…List``: a JSON array).

        A list is one transaction: a refusal of any row leaves the table as it was.
        """
        company = self._login(request)
        vendor_name = self._table(entity)
        body = self._body(request)
        if many != isinstance(body, list) or (not many and not isinstance(body, dict)):
            wanted = "a JSON array of entities" if many else "one entity as a JSON object"
            raise SandboxError(400, {"Message": f"The request is invalid: {operation.title()}"
                                                f"{'List' if many else ''} takes {wanted}."})
        if many and len(body) > LIST_ROWS_MAX:
            raise SandboxError(413, {"Message": f"The request is too large: {operation.title()}List takes at most "
                                                f"{LIST_ROWS_MAX} entities in one call, not {len(body)}."})
        done: list[Row] = []
        changes: list[Change] = []
        with self.lock:
            before = ({name: {k: dict(v) for k, v in table.rows.items()} for name, table in company.tables.items()}
                      if many else None)
            try:
                for one in body if many else [body]:
                    row, row_changes = getattr(company, operation)(vendor_name, one)
                    done.append(dict(row))
                    changes += row_changes
            except UnicontaFault:
                if before is not None:  # one call, one transaction
                    for name, rows in before.items():
                        company.tables[name].rows.clear()
                        company.tables[name].rows.update(rows)
                raise
        self._notify(company, changes)
        return uniconta_response([wire(r) for r in done] if many else wire(done[0]))

    def entities_insert(self, request: Request, entity: str) -> Response:
        return self._write(request, entity, "insert", many=False)

    def entities_update(self, request: Request, entity: str) -> Response:
        return self._write(request, entity, "update", many=False)

    def entities_delete(self, request: Request, entity: str) -> Response:
        return self._write(request, entity, "delete", many=False)

    def entities_insert_list(self, request: Request, entity: str) -> Response:
        return self._write(request, entity, "insert", many=True)

    def entities_update_list(self, request: Request, entity: str) -> Response:
        return self._write(request, entity, "update", many=True)

    def entities_delete_list(self, request: Request, entity: str) -> Response:
        return self._write(request, entity, "delete", many=True)

    # -- change URLs -----------------------------------------------------------------------------------------
    def _notify(self, company: UnicontaCompany, changes: list[Change]) -> None:
        """Call every Change URL subscribed to a changed table; record each call's health on its row."""
        for change in changes:
            table = TABLES[change.table].change_table
            if table is None:
                continue
            with self.lock:
                targets = [dict(r) for r in company.rows("TableChangeEventClient")
                           if r.get("Table") in ("", None, table)]
            for target in targets:
                self._call_change_url(company, target, table, change)

    def _call_change_url(self, company: UnicontaCompany, target: Row, table: str, change: Change) -> None:
        key = TABLES[change.table].key
        params = {"CompanyId": company.company_id, "Table": table, "RowId": change.row["RowId"],
                  "Key": "" if key is None else change.row.get(key, ""), "Operation": change.operation}
        if target.get("Argument"):
            params["Argument"] = target["Argument"]
        url = target["Url"] + ("&" if "?" in target["Url"] else "?") + urlencode(params)
        if target.get("UsePost"):
            body = json.dumps(wire(change.row), default=_to_json).encode()
            delivery = self.deliver_webhook(url, body, method="POST")
        else:
            delivery = self.deliver_webhook(url, b"", method="GET")
        with self.lock:
            row = company.tables["TableChangeEventClient"].rows.get(str(target["RowId"]))
            if row is None:
                return
            row["LastEvent"] = company.now()
            if delivery.status is not None or delivery.error:
                failed = bool(delivery.error) or (delivery.status or 0) >= 400
                row["HasError"] = failed
                row["ErrorMessage"] = (delivery.error or f"HTTP {delivery.status}") if failed else None
            company.touched("TableChangeEventClient", row)


def build_sandbox(**knobs: Any) -> UnicontaSandbox:
    """The provider's sandbox factory: knobs as keyword arguments."""
    return UnicontaSandbox(**knobs)

