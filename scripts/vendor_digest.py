#!/usr/bin/env python3
"""Make the digest of the vendor facts Synkro relies on, from the vendors' published API descriptions.

Usage::

    python scripts/vendor_digest.py [--specs DIR]          # write docs/vendors/facts/<vendor>.json
    python scripts/vendor_digest.py [--specs DIR] --check  # say whether the digest is out of date

``DIR`` holds the description files (Swagger 2.0 / OpenAPI 3.0 JSON) and the ``README.md`` that names
where each came from (table rows ``| `file` | what | owner/repo `path` @commit |``); it defaults to
``../shared/specs`` beside the repository. Nothing in the product or the tests needs ``DIR``: they read
the digest, which is kept in the repository.

Each digest file keeps the description's own layout (``paths`` + ``definitions`` for Swagger 2.0,
``paths`` + ``components.schemas`` for OpenAPI 3.0) so the contract tests read both alike, reduced to:

* the operations under the resource families Synkro uses (:data:`VENDORS`, ``families``);
* per operation: path/query/header/form parameters (name, place, type, format, enum, limits, required),
  the request body schema, every documented response status with its schema (error shapes included);
  parameters, bodies and responses defined by reference are written in place;
* schemas pruned to what validation needs (types, formats, maxLength and other limits, enums, required,
  nullability, read-only flags), every referenced definition closed over; descriptions, examples,
  titles, tags and summaries dropped (except the few descriptions listed in ``keep_descriptions``,
  which carry a fact Synkro relies on);
* ``x-digest``: the source (file, upstream repository, path, commit, SHA-256) and the date produced;
* ``x-recorded``: facts documented outside the description (``supplements``), each with its source.

Output is deterministic (keys sorted, parameters ordered by place and name); re-running on unchanged
descriptions leaves the files, and their dates, untouched. Digests with no description behind them
(``HAND_RECORDED``: Uniconta, Visma.net's Sales Order service) are written by hand; ``--check``
checks their integrity (source and date on the file and on every operation).

Exit status: 0 written / up to date; 1 out of date or malformed; 2 the descriptions are not at hand.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DIGEST_DIR = REPO / "docs" / "vendors" / "facts"
DEFAULT_SPECS = REPO.parent / "shared" / "specs"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

#: Keys kept on a schema object; everything else (description, example, title, default, deprecated,
#: x-* apart from x-nullable) is dropped.
SCHEMA_KEYS = frozenset({
    "$ref", "type", "format", "enum", "required", "nullable", "x-nullable", "readOnly", "writeOnly",
    "maxLength", "minLength", "pattern", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
    "maxItems", "minItems", "uniqueItems", "multipleOf",
    "properties", "items", "additionalProperties", "allOf", "anyOf", "oneOf", "not",
})
#: Keys kept on a parameter (Swagger 2.0 puts the type on the parameter, OpenAPI 3.0 in ``schema``).
PARAMETER_KEYS = frozenset({
    "name", "in", "required", "type", "format", "enum", "items", "collectionFormat", "maxLength", "minLength",
    "pattern", "maximum", "minimum", "schema", "style", "explode",
})


@dataclass(frozen=True)
class Vendor:
    """One digest made from one description file."""

    name: str
    source: str
    families: tuple[str, ...]
    #: Definitions the tests read directly although no kept operation references them.
    keep_schemas: tuple[str, ...] = ()
    #: (schema, property) pairs whose description states a fact Synkro relies on.
    keep_descriptions: tuple[tuple[str, str], ...] = ()
    #: Facts from outside the description, written under ``x-recorded`` (each with its ``source``).
    supplements: dict[str, Any] = field(default_factory=dict)


WEBCRM_ENTITIES = "Organisations|Persons|Deliveries|QuotationLines|Products|Users"
VENDORS: tuple[Vendor, ...] = (
    Vendor(
        name="webcrm", source="webcrm-swagger.json",
        # The entities Synkro syncs (whole families: LinkedData, LinkedSetup, FindBy*, sub-lists),
        # every entity's hooks, the token endpoints and the field metadata (drop-down lists such as Type).
        families=(rf"/({WEBCRM_ENTITIES})(/.*)?", r"/\w+/Hooks(/\{id\})?", r"/Auth(/.*)?", r"/FieldsMetadata(/.*)?"),
        supplements={
            "paths": {
                "/Queries": {"get": {
                    "parameters": [
                        {"in": "query", "name": "script", "required": True, "type": "string"},
                        {"in": "query", "name": "Page", "required": False, "type": "integer", "format": "int32"},
                        {"in": "query", "name": "Size", "required": False, "type": "integer", "format": "int32"},
                    ],
                    "responses": {"200": {"schema": {"type": "array", "items": {"type": "object"}}}},
                    "x-source": "webCRM's live API (absent from the 2019 copy of the description); shared vendor "
                                "notes, webCRM section (`GET /Queries?script=SELECT ... FROM organisation ...`); "
                                "docs/vendors/webcrm.md",
                }},
            },
            "errors": [
                {"status": 429, "schema": {"type": "object", "required": ["Message", "Type"], "properties": {
                    "RetryAfterSeconds": {"type": "integer"}, "Message": {"type": "string"},
                    "Type": {"type": "string", "enum": ["TooManyRequestsException"]}}},
                 "source": "api.webcrm.com landing text (250 requests/minute; 429 with Retry-After and body "
                           "{RetryAfterSeconds, Message, Type: TooManyRequestsException}); shared vendor notes, "
                           "webCRM section; docs/vendors/webcrm.md (portal)"},
            ],
        },
    ),
    Vendor(
        name="fortnox", source="fortnox-openapi.json",
        families=(r"/3/(customers|articles|orders|offers|invoices|employees)(/.*)?",
                  r"/3/(companyinformation|me|settings/company|units|termsofpayments|currencies)(/.*)?"),
        supplements={
            "query": [
                {"paths": r"/3/(customers|articles|orders|offers|invoices|employees|units|termsofpayments|currencies)",
                 "methods": ["get"],
                 "parameters": [
                     {"in": "query", "name": "page", "required": False, "type": "integer", "minimum": 1},
                     {"in": "query", "name": "limit", "required": False, "type": "integer", "minimum": 1},
                 ],
                 "source": "Fortnox developer docs, pagination (`page`, `limit`, lists carry MetaInformation); "
                           "shared vendor notes, Fortnox section; docs/vendors/fortnox.md (paging; the maximum of "
                           "`limit`, 500, is unverified and so not recorded)"},
            ],
            "errors": [
                {"status": 429, "schema": None,
                 "source": "shared vendor notes, Fortnox section (300 requests/minute per token, 429); "
                           "body unpublished, see docs/vendors/fortnox.md"},
            ],
        },
    ),
    Vendor(
        name="vismanet", source="vismanet-legacy-swagger.json",
        families=(r"/controller/api/v1/(customer|contact|inventory|customerinvoice|employee|salesorder"
                  r"|salesorderbasic|salesordertype)(/.*)?",),
        supplements={
            "query": [
                {"paths": r"/controller/api/v1/(customer|contact|inventory|customerinvoice|employee|salesorder"
                          r"|salesorderbasic|salesordertype)(/\{[^}]+\}/(invoice|salesorder|salesorderbasic|contact"
                          r"|document|cashSale))?",
                 "methods": ["get"],
                 "parameters": [
                     {"in": "query", "name": "pageNumber", "required": False, "type": "integer", "minimum": 1},
                     {"in": "query", "name": "pageSize", "required": False, "type": "integer", "minimum": 1},
                 ],
                 "source": "docs.vismasoftware.no/vismanetapi/api-reference/features/pagination (`pageNumber` from 1 "
                           "and `pageSize` on every list of the current /v1 API); docs/vendors/vismanet.md"},
            ],
        },
    ),
    Vendor(
        name="customers1st", source="customers1st-openapi.json",
        families=(r"/(customers|products|hooks|pospayments|posbalances|registers|users|customfields|paymenttypes"
                  r"|financevouchers)(/.*)?", r"/settings(/.*)?"),
        keep_schemas=("ErrorResponse", "ValidationErrorResponse", "Customer", "POSPayment", "PaymentArticle"),
        keep_descriptions=(("Customer", "country"), ("Customer", "addr_country")),
        supplements={
            "errors": [
                {"status": 429, "schema": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"}, "bucket_size": {"type": ["string", "number"]},
                    "bucket_regen": {"type": ["string", "number"]}}},
                 "source": "Customers 1st docs, general page, Throttling (bucket of 80 refilling 8/s; 429 body "
                           "{error, bucket_size, bucket_regen}, the numbers shown as text) at servicepos/api-docs "
                           "pages/ @c942be86; docs/vendors/customers1st.md"},
            ],
        },
    ),
)

#: Digests written by hand (no description file exists); ``--check`` checks their integrity only.
HAND_RECORDED = ("uniconta", "vismanet-salesorders")


# -- reading the sources ------------------------------------------------------------------------------
def source_rows(specs: Path) -> dict[str, dict[str, str]]:
    """``README.md``'s table: file name → {repository, path, commit}. Missing README → {}."""
    readme = specs / "README.md"
    if not readme.is_file():
        return {}
    rows: dict[str, dict[str, str]] = {}
    pattern = re.compile(r"^\|\s*`([^`]+)`\s*\|[^|]*\|\s*([\w.-]+/[\w.-]+)\s+`([^`]+)`\s+@([0-9a-f]+)\s*\|\s*$")
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if match:
            name, repository, path, commit = match.groups()
            rows[name] = {"repository": repository, "path": path, "commit": commit}
    return rows


def _pointer(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _deref(spec: dict[str, Any], node: Any) -> Any:
    """A parameter, request body or response given by ``$ref`` (never a schema), written in place."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and not node["$ref"].startswith(
            ("#/definitions/", "#/components/schemas/")):
        node = _pointer(spec, node["$ref"])
        seen += 1
        if seen > 20:
            raise ValueError("reference loop")
    return node


# -- pruning ------------------------------------------------------------------------------------------
def prune_schema(node: Any, keep_description: bool = False) -> Any:
    """A schema with only the keys validation needs, recursively."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" and keep_description:
            out[key] = value
        elif key not in SCHEMA_KEYS:
            continue
        elif key == "properties":
            out[key] = {name: prune_schema(prop) for name, prop in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = prune_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [prune_schema(v) for v in value]
        else:
            out[key] = copy.deepcopy(value)
    return out


def _parameter(spec: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    raw = _deref(spec, raw)
    out = {k: copy.deepcopy(v) for k, v in raw.items() if k in PARAMETER_KEYS}
    out.setdefault("required", False)
    if "schema" in out:
        out["schema"] = prune_schema(out["schema"])
    if "items" in out:
        out["items"] = prune_schema(out["items"])
    return out


def _content(spec: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    return {media: ({"schema": prune_schema(body["schema"])} if "schema" in body else {})
            for media, body in content.items()}


def prune_operation(spec: dict[str, Any], path_item: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """One operation: its parameters (path-level merged in), body and responses, pruned."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _parameter(spec, raw)
        merged[(parameter["in"], parameter["name"])] = parameter
    out: dict[str, Any] = {"parameters": [merged[key] for key in sorted(merged)]}
    if operation.get("operationId"):
        out["operationId"] = operation["operationId"]
    if operation.get("consumes"):
        out["consumes"] = list(operation["consumes"])
    if "requestBody" in operation:
        body = _deref(spec, operation["requestBody"])
        out["requestBody"] = {"required": bool(body.get("required")),
                              "content": _content(spec, body.get("content", {}))}
    responses: dict[str, Any] = {}
    for status, raw in operation.get("responses", {}).items():
        response = _deref(spec, raw)
        kept: dict[str, Any] = {}
        if "schema" in response:
            kept["schema"] = prune_schema(response["schema"])
        if "content" in response:
            kept["content"] = _content(spec, response["content"])
        responses[str(status)] = kept
    out["responses"] = responses
    return out


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("#/definitions/", "#/components/schemas/")):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def digest(vendor: Vendor, spec: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The digest of ``spec`` for ``vendor`` (without the production date)."""
    swagger = "swagger" in spec
    definitions = spec.get("definitions", {}) if swagger else spec.get("components", {}).get("schemas", {})
    families = [re.compile(pattern) for pattern in vendor.families]
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if not any(pattern.fullmatch(path) for pattern in families):
            continue
        operations = {method: prune_operation(spec, item, item[method]) for method in METHODS if method in item}
        if operations:
            paths[path] = operations
    # Close over the referenced definitions.
    wanted: set[str] = set(vendor.keep_schemas)
    _refs(paths, wanted)
    kept: dict[str, Any] = {}
    pending = sorted(wanted)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        if name not in definitions:
            raise KeyError(f"{vendor.source}: definition {name} is referenced but missing")
        described = {prop for schema, prop in vendor.keep_descriptions if schema == name}
        schema = prune_schema(definitions[name])
        for prop in described:
            original = definitions[name].get("properties", {}).get(prop, {})
            if "description" in original:
                schema["properties"][prop]["description"] = original["description"]
        kept[name] = schema
        more: set[str] = set()
        _refs(schema, more)
        pending.extend(sorted(more - set(kept)))
    out: dict[str, Any] = {"paths": paths}
    if swagger:
        out["swagger"] = spec["swagger"]
        out["definitions"] = kept
        if "basePath" in spec:
            out["basePath"] = spec["basePath"]
    else:
        out["openapi"] = spec["openapi"]
        out["components"] = {"schemas": kept}
        out["servers"] = [{"url": server["url"]} for server in spec.get("servers", [])]
    out["info"] = {k: spec.get("info", {}).get(k) for k in ("title", "version") if spec.get("info", {}).get(k)}
    out["x-digest"] = {"source": source, "families": list(vendor.families), "script": "scripts/vendor_digest.py",
                       "operations": sum(len(ops) for ops in paths.values()), "schemas": len(kept)}
    if vendor.supplements:
        out["x-recorded"] = copy.deepcopy(vendor.supplements)
    return out


def render(document: dict[str, Any], width: int = 118) -> str:
    """The file's text: sorted keys, UTF-8, trailing newline; a node that fits on one line of ``width``
    characters is written on one line, a larger one with one space of indent per level."""

    def node(value: Any, indent: int, prefix: str) -> list[str]:
        flat = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
        if indent + len(prefix) + len(flat) <= width or not isinstance(value, dict | list) or not value:
            return [" " * indent + prefix + flat]
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        items = ([(json.dumps(k, ensure_ascii=False) + ": ", value[k]) for k in sorted(value)]
                 if isinstance(value, dict) else [("", v) for v in value])
        lines = [" " * indent + prefix + opening]
        for index, (key, child) in enumerate(items):
            child_lines = node(child, indent + 1, key)
            if index < len(items) - 1:
                child_lines[-1] += ","
            lines.extend(child_lines)
        lines.append(" " * indent + closing)
        return lines

    return "\n".join(node(document, 0, "")) + "\n"


def _without_date(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    document.get("x-digest", {}).pop("produced", None)
    return document


def produce(vendor: Vendor, specs: Path) -> dict[str, Any]:
    """Read the description and README row; KeyError/FileNotFoundError when one is missing."""
    path = specs / vendor.source
    raw = path.read_bytes()
    rows = source_rows(specs)
    if vendor.source not in rows:
        raise KeyError(f"{specs / 'README.md'} does not say where {vendor.source} comes from")
    source = {"file": vendor.source, **rows[vendor.source], "sha256": hashlib.sha256(raw).hexdigest()}
    return digest(vendor, json.loads(raw), source)


def digest_path(name: str, directory: Path = DIGEST_DIR) -> Path:
    return directory / f"{name}.json"


# -- hand-recorded digests ----------------------------------------------------------------------------
def integrity_problems(document: dict[str, Any]) -> list[str]:
    """What a digest file lacks: its source, its date, and for hand-recorded ones a source per operation."""
    problems: list[str] = []
    meta = document.get("x-digest")
    if not isinstance(meta, dict):
        return ["no x-digest"]
    try:
        dt.date.fromisoformat(str(meta.get("produced")))
    except ValueError:
        problems.append("no valid produced date")
    source = meta.get("source")
    if meta.get("recorded"):
        if not (isinstance(meta.get("sources"), list) and meta["sources"]):
            problems.append("hand-recorded without sources")
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if not operation.get("x-source"):
                    problems.append(f"{method.upper()} {path} has no x-source")
    elif not (isinstance(source, dict) and all(source.get(k) for k in ("file", "repository", "commit", "sha256"))):
        problems.append("no source (file, repository, commit, sha256)")
    if not document.get("paths"):
        problems.append("no operations")
    return problems


# -- command line -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--specs", type=Path, default=DEFAULT_SPECS, help="folder of the description files")
    parser.add_argument("--check", action="store_true", help="only say whether the digest is out of date")
    parser.add_argument("--out", type=Path, default=DIGEST_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    missing = stale = False
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for vendor in VENDORS:
        target = digest_path(vendor.name, args.out)
        try:
            fresh = produce(vendor, args.specs)
        except (FileNotFoundError, KeyError) as error:
            print(f"{vendor.name}: cannot read the description ({error})", file=sys.stderr)
            missing = True
            continue
        current = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else None
        if current is not None and _without_date(current) == fresh:
            fresh["x-digest"]["produced"] = current["x-digest"].get("produced", today)
            print(f"{vendor.name}: up to date ({target.relative_to(REPO) if target.is_relative_to(REPO) else target})")
            continue
        if args.check:
            print(f"{vendor.name}: OUT OF DATE — run python scripts/vendor_digest.py", file=sys.stderr)
            stale = True
            continue
        fresh["x-digest"]["produced"] = today
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(fresh), encoding="utf-8")
        print(f"{vendor.name}: written, {fresh['x-digest']['operations']} operations, "
              f"{fresh['x-digest']['schemas']} schemas")
    for name in HAND_RECORDED:
        target = digest_path(name, args.out)
        if not target.is_file():
            print(f"{name}: the hand-recorded digest {target.name} is missing", file=sys.stderr)
            stale = True
            continue
        problems = integrity_problems(json.loads(target.read_text(encoding="utf-8")))
        if problems:
            print(f"{name}: {'; '.join(problems)}", file=sys.stderr)
            stale = True
        else:
            print(f"{name}: hand-recorded, complete")
    return 1 if stale else 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
