"""A simulator of the Customers 1st API: same paths (with or without the ``/api`` prefix), bearer
tokens, ``paginationStart``/``paginationPageLength`` lists, ``updated_after``, error bodies, the token
bucket (80, refilling 8/s) and signed REST hooks honouring ``X-Suppress-Hooks``."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..sandbox import SandboxApp, WebhookDelivery, json_response, read_json
from . import sandbox_store as store
from .catalog import CUSTOMER_FIELDS, PRODUCT_FIELDS
from .client import STORE_TIMEZONE, TIMESTAMP_FORMAT
from .sandbox_pos import PosRoutes
from .webhooks import SIGNATURE_HEADER, sign

#: The demo connection's credentials: public on purpose.
DEMO_TOKEN = "demo-c1st-token"  # noqa: S105
DEMO_SIGNING_SECRET = "demo-signing-secret"  # noqa: S105
MAX_PAGE_LENGTH = 250

def _rule(path: str, method: str, endpoint: str) -> Rule:
    return Rule(path, methods=[method], endpoint=endpoint)


class Customers1stSandbox(PosRoutes, SandboxApp):
    """One Customers 1st store in memory."""

    system = "customers1st"
    #: Bucket of 80 requests refilling 8 per second: (size, seconds to refill it all).
    default_rate_limit = (80, 10.0)
    rules = [
        _rule("/customers", "GET", "customers_search"), _rule("/customers", "POST", "customer_add"),
        _rule("/customers/<int:customer_id>", "GET", "customer_get"),
        _rule("/customers/<int:customer_id>", "PUT", "customer_replace"),
        _rule("/customers/<int:customer_id>", "DELETE", "customer_delete"),
        _rule("/products", "GET", "products_search"), _rule("/products", "POST", "product_add"),
        _rule("/products/<int:product_id>", "GET", "product_get"),
        _rule("/products/<int:product_id>", "PUT", "product_replace"),
        _rule("/products/<int:product_id>", "DELETE", "product_delete"),
        _rule("/hooks", "GET", "hooks_list"), _rule("/hooks", "POST", "hook_subscribe"),
        _rule("/hooks/events", "GET", "hook_events"),
        _rule("/hooks/<int:hook_id>", "GET", "hook_get"), _rule("/hooks/<int:hook_id>", "PUT", "hook_update"),
        _rule("/hooks/<int:hook_id>", "DELETE", "hook_unsubscribe"),
        _rule("/settings/store", "GET", "store_get"),
        _rule("/settings/configs", "GET", "configs_get"), _rule("/settings/configs", "PUT", "configs_put"),
        *PosRoutes.pos_rules,
    ]

    def __init__(self, *, api_tokens: Mapping[str, str] | None = None,
                 signing_secret: str = DEMO_SIGNING_SECRET, **knobs: Any):
        super().__init__(**knobs)
        self.signing_secret = signing_secret
        self.customers: dict[int, dict[str, Any]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self._ids: dict[str, int] = {}
        self._bucket: tuple[float, float] | None = None  # (tokens, at)
        self.now: Callable[[], datetime] = lambda: datetime.now(STORE_TIMEZONE).replace(tzinfo=None)
        self.init_pos()
        self.tokens: dict[str, int] = {}
        for token, name in (api_tokens or {DEMO_TOKEN: "Synkro"}).items():
            self.issue_token(name, token=token)

    # -- helpers for tests and the demo --------------------------------------------------------
    def next_id(self, table: str, start: int = 1) -> int:
        with self.lock:
            self._ids[table] = self._ids.get(table, start - 1) + 1
            return self._ids[table]

    def stamp(self) -> str:
        return self.now().strftime(TIMESTAMP_FORMAT)

    def issue_token(self, name: str = "Synkro", *, token: str | None = None) -> str:
        """Make an API user (Settings → API → API users) and return its token."""
        user_id = self.add_user({"name": name, "apiuser": 1, "shopuser": 0})
        token = token or f"c1st-{user_id}-{self.random.getrandbits(64):016x}"
        with self.lock:
            self.tokens[token] = user_id
        return token

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    def subscribe(self, url: str, event: str) -> int:
        """What Settings → API → REST hooks does in the app."""
        hook_id = self.next_id("hooks")
        with self.lock:
            self.hooks[hook_id] = {"id": hook_id, "event": event, "url": url, "receiver": None, "active": 1,
                                   "created": self.stamp(), "lastactivity": None, "last_updated": self.stamp()}
        return hook_id

    # -- vendor bodies -------------------------------------------------------------------------
    def _limit(self) -> tuple[int, float] | None:
        limit = self.knobs.rate_limit if self.knobs.rate_limit is not None else self.default_rate_limit
        return limit if limit and limit[0] else None

    def _check_rate_limit(self) -> float | None:
        """A bucket that refills (not a window): returns seconds until one request is allowed again."""
        limit = self._limit()
        if limit is None:
            return None
        size, window = limit
        regen = size / window if window else float(size)
        now = self.clock()
        with self.lock:
            tokens, at = self._bucket or (float(size), now)
            tokens = min(float(size), tokens + (now - at) * regen)
            if tokens < 1:
                self._bucket = (tokens, now)
                return (1 - tokens) / regen
            self._bucket = (tokens - 1, now)
        return None

    def rate_limited_response(self, retry_after: float) -> Response:
        size, window = self._limit() or self.default_rate_limit
        regen = size / window if window else size
        body = {"error": "API Resource limit reached.", "bucket_size": str(size),
                "bucket_regen": f"{regen:g}"}
        # customers1st-general.md "Rate limiting": the body names the bucket; no Retry-After header is documented.
        return json_response(body, status=429)

    def server_error_response(self, status: int = 500) -> Response:
        return json_response(store.error_body(status, "Internal server error", "SERVER_ERROR"), status=status)

    def not_found_response(self) -> Response:
        return json_response(store.error_body(404, "Not found", "CLIENT_ERROR"), status=404)

    def unauthorized_response(self) -> Response:
        return json_response(store.error_body(401, "Unauthorized", "UNAUHTORIZED"), status=401)

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/api" or path.startswith("/api/"):
            environ["PATH_INFO"] = path[4:] or "/"
        return super().__call__(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if self.api_user(request) is None:
            return self.unauthorized_response()
        return super().dispatch(request)

    def api_user(self, request: Request) -> int | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with self.lock:
            return self.tokens.get(token.strip())

    # -- paging, filters and hooks ---------------------------------------------------------------
    def page(self, request: Request, rows: list[dict[str, Any]], allowed: tuple[str, ...], *,
             sort_keys: tuple[str, str] = ("sortField", "sortOrder"),
             shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
             stored_fields: Collection[str] = ()) -> dict[str, Any]:
        """One page of ``rows`` as ``{content, count, hasMore}``; unknown parameters are refused.

        ``shown``: ``rows`` are stored rows and this makes each the object the API answers; only the page's rows are
        made when the sort field is one of ``stored_fields`` (fields the object takes unchanged from the row), all
        of them (to sort by what the object holds) otherwise.
        """
        args = request.args
        unknown = [k for k in args if k.removesuffix("[]") not in allowed]
        if unknown:
            raise store.validation_failed([{"name": k, "code": "error_additional", "in": "query"} for k in unknown])
        start, length = self.int_arg(request, "paginationStart", 0), self.int_arg(request, "paginationPageLength", 50)
        length = max(0, min(length, MAX_PAGE_LENGTH))
        field = args.get(sort_keys[0]) or "id"
        descending = args.get(sort_keys[1]) == "-1"
        if shown is not None and field not in stored_fields:
            rows, shown = [shown(row) for row in rows], None
        rows = sorted(rows, key=lambda r: (r.get(field) is None, r.get(field) or 0), reverse=descending)
        content = rows[start:start + length] if shown is None else [shown(row) for row in rows[start:start + length]]
        count = len(rows) if args.get("count") in ("1", "true") else None
        return {"content": content, "count": count, "hasMore": start + length < len(rows)}

    @staticmethod
    def int_arg(request: Request, name: str, default: int) -> int:
        value = request.args.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise store.validation_failed([{"name": name, "code": "error_type", "in": "query", "value": value,
                                            "expected": ["integer"], "used": "string"}]) from None

    @staticmethod
    def after(request: Request, name: str, rows: list[dict[str, Any]], field: str = "updated_at"
              ) -> list[dict[str, Any]]:
        value = request.args.get(name)
        if not value:
            return rows
        value = value.replace("T", " ")[:19]
        return [r for r in rows if (r.get(field) or "") > value]

    def notify(self, request: Request | None, event: str, content: Mapping[str, Any]) -> list[WebhookDelivery]:
        """Call every hook subscribed to ``event``, unless the change came with X-Suppress-Hooks."""
        if request is not None and "X-Suppress-Hooks" in request.headers:
            return []
        with self.lock:
            targets = [dict(h) for h in self.hooks.values() if h["event"] == event and h["active"]]
        deliveries = []
        for hook in targets:
            body = json.dumps({
                "content": content, "event": event, "logid": self.next_id("hooklog", 12_000_000),
                "resthookid": hook["id"], "storeid": store.STORE_ID,
                "initiated": datetime.now(STORE_TIMEZONE).isoformat(timespec="seconds"), "metadata": [],
            }, default=str).encode()
            delivery = self.deliver_webhook(hook["url"], body, {SIGNATURE_HEADER: sign(body, self.signing_secret)})
            with self.lock:
                if hook["id"] in self.hooks:
                    self.hooks[hook["id"]]["lastactivity"] = self.stamp()
                if delivery.status == 410:  # documented: answering 410 Gone unsubscribes
                    self.hooks.pop(hook["id"], None)
            deliveries.append(delivery)
        return deliveries

    # -- customers -------------------------------------------------------------------------------
    def add_customer(self, content: Mapping[str, Any], request: Request | None = None) -> dict[str, Any]:
        fields = self._customer_fields(content)
        customer_id = self.next_id("customers")
        with self.lock:
            row = {"id": customer_id, "createddate": self.stamp(), "deleted": 0, **fields,
                   "updated_at": self.stamp()}
            self.customers[customer_id] = row
            customer = store.customer_object(row)
        self.notify(request, "customer.created", customer)
        return customer

    def _customer_fields(self, content: Any) -> dict[str, Any]:
        fields = store.check_fields(content, store.CUSTOMER_WRITABLE, store.CUSTOMER_READ_ONLY,
                                    fields=CUSTOMER_FIELDS)
        fields.pop("updated_at", None)
        fields.pop("deleted_at", None)
        if fields.get("ean") and not store.valid_ean(str(fields["ean"])):
            raise store.refuse(400, f"Invalid EAN: {fields['ean']}", "BAD_REQUEST")
        return fields

    def _live_customer(self, customer_id: int) -> dict[str, Any]:
        row = self.customers.get(customer_id)
        if row is None or row.get("deleted"):
            raise store.JsonStringError(404, "Customer not found")
        return row

    def customers_search(self, request: Request) -> Response:
        # Filtered and sorted as stored (the fields compared are the object's own, unchanged); only the page's
        # customers are made into ``Customer`` objects.
        with self.lock:
            rows = [r for r in self.customers.values() if not r.get("deleted")]
        rows = self.after(request, "updated_after", rows)
        for param, field in (("customerno", "customerno"), ("ean", "ean"), ("cvr", "vat")):
            if request.args.get(param):
                rows = [r for r in rows if r.get(field) == request.args[param]]
        for param in ("name", "email"):
            if request.args.get(param):
                rows = [r for r in rows if request.args[param].lower() in (r.get(param) or "").lower()]
        return json_response(self.page(request, rows, store.CUSTOMER_QUERY, shown=store.customer_object,
                                       stored_fields=store.CUSTOMER_STORED_FIELDS))

    def customer_add(self, request: Request) -> Response:
        body = read_json(request)
        if not isinstance(body, dict) or "content" not in body:
            raise store.validation_failed([{"name": "content", "code": "error_required"}])
        return json_response({"content": self.add_customer(body["content"], request)})

    def customer_get(self, request: Request, customer_id: int) -> Response:
        with self.lock:
            return json_response({"content": store.customer_object(self._live_customer(customer_id))})

    def customer_replace(self, request: Request, customer_id: int) -> Response:
        """PUT replaces: every writable field not sent becomes null."""
        body = read_json(request)
        fields = self._customer_fields(body.get("content") if isinstance(body, dict) else None)
        with self.lock:
            row = self._live_customer(customer_id)
            for name in store.CUSTOMER_WRITABLE:
                row[name] = fields.get(name)
            row["updated_at"] = self.stamp()
            customer = store.customer_object(row)
        self.notify(request, "customer.updated", customer)
        return json_response({"content": customer})

    def customer_delete(self, request: Request, customer_id: int) -> Response:
        with self.lock:
            row = self._live_customer(customer_id)
            row.update(deleted=1, deleted_at=self.stamp(), updated_at=self.stamp())
            customer = store.customer_object(row)
        self.notify(request, "customer.deleted", customer)
        return json_response({"content": customer})

    # -- products --------------------------------------------------------------------------------
    def add_product(self, content: Mapping[str, Any], request: Request | None = None) -> dict[str, Any]:
        product_id = self.next_id("products")
        with self.lock:
            fields = self._product_fields(content, product_id)
            row = {"id": product_id, "created": self.stamp(), **fields, "updated_at": self.stamp()}
            self.products[product_id] = row
            product = store.product_object(row)
        self.notify(request, "product.created", product)
        return product

    def _product_fields(self, content: Any, product_id: int) -> dict[str, Any]:
        fields = store.check_fields(content, store.PRODUCT_WRITABLE, store.PRODUCT_READ_ONLY,
                                    fields=PRODUCT_FIELDS)
        fields.pop("updated_at", None)
        if not str(fields.get("title") or "").strip():
            raise store.refuse(400, "The product title is invalid", "PRODUCT_TITLE_INVALID")
        if fields.get("vatmode") not in (None, "normal", "second_hand"):
            raise store.validation_failed([{"name": "content.vatmode", "code": "error_enum",
                                            "value": fields["vatmode"], "expected": ["normal", "second_hand"]}])
        fields["productno"] = str(fields.get("productno") or product_id)
        for other in self.products.values():
            if other["id"] == product_id:
                continue
            if other.get("productno") == fields["productno"] and not fields.get("serieno"):
                raise store.refuse(400, f"Product number {fields['productno']} already exists",
                                   "PRODUCT_PRODUCTNO_EXISTS")
            if fields.get("barcode") and other.get("barcode") == fields["barcode"]:
                raise store.refuse(400, f"Barcode {fields['barcode']} already exists", "PRODUCT_BARCODE_EXISTS")
        return fields

    def _product(self, product_id: int) -> dict[str, Any]:
        row = self.products.get(product_id)
        if row is None:
            raise store.refuse(404, f"Product {product_id} not found", "PRODUCT_NOT_FOUND")
        return row

    def products_search(self, request: Request) -> Response:
        with self.lock:
            rows = list(self.products.values())
        rows = self.after(request, "updated_after", rows)
        for param, field in (("barcode", "barcode"), ("id", "id"), ("brand", "brand"), ("size", "size"),
                             ("color", "color")):
            if request.args.get(param):
                rows = [r for r in rows if str(r.get(field)) == request.args[param]]
        for param, field in (("productNo", "productno"), ("styleNo", "styleno")):
            wanted = request.args.getlist(param) + request.args.getlist(f"{param}[]")
            if wanted:
                rows = [r for r in rows if r.get(field) in wanted]
        return json_response(self.page(request, rows, store.PRODUCT_QUERY, sort_keys=("sort-field", "sort-order"),
                                       shown=store.product_object, stored_fields=store.PRODUCT_STORED_FIELDS))

    def product_add(self, request: Request) -> Response:
        body = read_json(request)
        if not isinstance(body, dict) or "content" not in body:
            raise store.validation_failed([{"name": "content", "code": "error_required"}])
        return json_response({"content": self.add_product(body["content"], request)})

    def product_get(self, request: Request, product_id: int) -> Response:
        with self.lock:
            return json_response({"content": store.product_object(self._product(product_id))})

    def product_replace(self, request: Request, product_id: int) -> Response:
        body = read_json(request)
        with self.lock:
            row = self._product(product_id)
            fields = self._product_fields(body.get("content") if isinstance(body, dict) else None, product_id)
            for name in store.PRODUCT_WRITABLE:
                row[name] = fields.get(name)
            row["updated_at"] = self.stamp()
            product = store.product_object(row)
        self.notify(request, "product.updated", product)
        return json_response({"content": product})

    def product_delete(self, request: Request, product_id: int) -> Response:
        with self.lock:
            product = store.product_object(self._product(product_id))
            del self.products[product_id]
        self.notify(request, "product.deleted", product)
        return json_response({"content": product})

    # -- hooks and store -------------------------------------------------------------------------
    def hooks_list(self, request: Request) -> Response:
        with self.lock:
            return json_response({"content": [dict(h) for h in self.hooks.values()], "count": None})

    def _hook_body(self, request: Request) -> tuple[str, str]:
        body = read_json(request)
        event, url = (body.get("event"), body.get("url")) if isinstance(body, dict) else (None, None)
        if event not in store.HOOK_EVENTS:
            raise store.refuse(400, f"Invalid event: {event}", "BAD_REQUEST")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise store.refuse(400, "Invalid url", "BAD_REQUEST")
        return event, url

    def hook_subscribe(self, request: Request) -> Response:
        event, url = self._hook_body(request)
        return json_response({"id": self.subscribe(url, event)}, status=201)

    def hook_events(self, request: Request) -> Response:
        return json_response({"items": list(store.HOOK_EVENTS)})

    def _hook(self, hook_id: int) -> dict[str, Any]:
        if hook_id not in self.hooks:
            raise store.refuse(404, f"Hook {hook_id} not found", "CLIENT_ERROR")
        return self.hooks[hook_id]

    def hook_get(self, request: Request, hook_id: int) -> Response:
        with self.lock:
            return json_response(dict(self._hook(hook_id)))

    def hook_update(self, request: Request, hook_id: int) -> Response:
        event, url = self._hook_body(request)
        with self.lock:
            self._hook(hook_id).update(event=event, url=url, last_updated=self.stamp())
        return json_response({"updated": 1})

    def hook_unsubscribe(self, request: Request, hook_id: int) -> Response:
        with self.lock:
            self._hook(hook_id)
            del self.hooks[hook_id]
        return json_response({"deleted": 1})

    def configs_get(self, request: Request) -> Response:
        """``GET /settings/configs``: the store's configs as ``{content: [{key, value, description}]}``."""
        with self.lock:
            configs = [{"key": "resthook_signing_secret", "value": self.signing_secret,
                        "description": "Secret REST hooks are signed with (X-C1st-Webhook-Signature)"}]
        return json_response({"content": configs})

    def configs_put(self, request: Request) -> Response:
        """``PUT /settings/configs`` with ``{content: [{key, value}]}``; the signing secret takes effect at once."""
        body = read_json(request)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, list) or not all(isinstance(c, dict) and c.get("key") for c in content):
            raise store.refuse(400, "content must be a list of {key, value}", "BAD_REQUEST")
        with self.lock:
            for config in content:
                if config["key"] == "resthook_signing_secret":
                    self.signing_secret = str(config.get("value") or "")
        return json_response({"content": content})

    def store_get(self, request: Request) -> Response:
        return json_response({"id": store.STORE_ID, "title": "Nordlys Cykler & Sport", "cityname": "Aarhus C",
                              "zipcode": "8000", "streetname": "Vestergade", "streetno": "12",
                              "phone": "+4586121212", "email": "butik@nordlys-demo.dk",
                              "created": "2019-03-01 09:00:00"})

    def seed_demo(self) -> None:
        """A few hundred customers, styled products, registers, cashiers and a week of POS payments."""
        from .demo import seed

        seed(self)

    # -- what a restart keeps (the demo's data in var/; :mod:`..sandbox_state`) -------------------------
    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]:
        return {"customers": self.customers, "products": self.products, "hooks": self.hooks, "ids": self._ids,
                "registers": self.registers, "users": self.users, "payments": self.payments,
                "balances": self.balances, "tokens": self.tokens}

    def persistent_meta(self) -> dict[str, Any]:
        return {"signing_secret": self.signing_secret}

    def restore_state(self, collections: Mapping[str, Mapping[Any, Any]], meta: Mapping[str, Any]) -> None:
        super().restore_state(collections, meta)
        self.signing_secret = meta.get("signing_secret", self.signing_secret)
