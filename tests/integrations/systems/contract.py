"""Validate what clients send and sandboxes answer against what the vendors document.

Two sources say what a vendor documents, and the same checks run against each:

* ``digest`` — always: the digest kept in the repository (``docs/vendors/facts/<vendor>.json``, made by
  ``scripts/vendor_digest.py`` from the vendors' description files, or written by hand with sources where a
  vendor publishes none). It keeps the description's layout, reduced to the operations Synkro uses.
* ``description`` — also, when the full description files are at hand: ``$SYNKRO_SPECS_DIR``, or
  ``../shared/specs`` beside the repository. A test module that imports :func:`spec_source` then runs
  every test once per source, so a digest that lost a fact the tests rely on shows up as a failure.

A spec is named by its description's file name (``"webcrm-swagger.json"``) or, for a hand-recorded
digest, by the digest's name (``"uniconta"``). Schemas are taken from the operation (path template +
method) so a test states which real endpoint it exercises; OpenAPI's ``nullable`` and Swagger's
``x-nullable`` become JSON-Schema null types. Facts recorded outside a description (``x-recorded`` in
the digest: extra operations such as webCRM's ``/Queries``, query parameters documented elsewhere such as
Fortnox's ``page``/``limit``) apply to both sources.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[3]
DIGEST_DIR = REPO / "docs" / "vendors" / "facts"
SPECS_DIR = Path(os.environ.get("SYNKRO_SPECS_DIR") or REPO.parent / "shared" / "specs")
DIGEST, DESCRIPTION = "digest", "description"
_SCHEMA_REF = ("#/definitions/", "#/components/schemas/")
_reading = [DIGEST]


# -- sources --------------------------------------------------------------------------------------
@cache
def digest_files() -> dict[str, Path]:
    """Spec name → digest file: each digest under its description's file name and under its own name."""
    files: dict[str, Path] = {}
    for path in sorted(DIGEST_DIR.glob("*.json")):
        files[path.stem] = path
        source = json.loads(path.read_text(encoding="utf-8")).get("x-digest", {}).get("source") or {}
        if source.get("file"):
            files[source["file"]] = path
    return files


def described_files() -> list[str]:
    """The description files the digest was made from."""
    return sorted(name for name in digest_files() if name.endswith(".json"))


def available_sources() -> tuple[str, ...]:
    """``digest`` always; ``description`` too when every description file is at hand."""
    names = described_files()
    if names and all((SPECS_DIR / name).is_file() for name in names):
        return DIGEST, DESCRIPTION
    return (DIGEST,)


@contextmanager
def reading(source: str) -> Iterator[str]:
    """Within the block, :func:`load_spec` and the checks read ``source`` (``digest`` or ``description``)."""
    if source not in (DIGEST, DESCRIPTION):
        raise ValueError(source)
    _reading.append(source)
    try:
        yield source
    finally:
        _reading.pop()


@pytest.fixture(params=available_sources(), autouse=True)
def spec_source(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs each test of a module that imports this fixture once per available source."""
    with reading(request.param) as source:
        yield source


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if (node.get("nullable") or node.get("x-nullable")) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        if (node.get("nullable") or node.get("x-nullable")) and "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@cache
def _load(source: str, filename: str) -> dict[str, Any]:
    if source == DESCRIPTION and (SPECS_DIR / filename).is_file():
        return _nullable(json.loads((SPECS_DIR / filename).read_text(encoding="utf-8")))
    path = digest_files().get(filename)
    if path is None:
        raise AssertionError(f"no digest of {filename} in {DIGEST_DIR.relative_to(REPO)}")
    return _nullable(json.loads(path.read_text(encoding="utf-8")))


def load_spec(filename: str) -> dict[str, Any]:
    """The vendor's API description (or its digest, by default) as a dict, nullability made explicit."""
    return _load(_reading[-1], filename)


def recorded(filename: str) -> dict[str, Any]:
    """The facts recorded outside the description (the digest's ``x-recorded``), whatever the source."""
    return _load(DIGEST, filename).get("x-recorded", {})


# -- operations -----------------------------------------------------------------------------------
def _pointer(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _deref(spec: dict[str, Any], node: Any) -> Any:
    """A parameter, request body or response given by reference (schemas stay references)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and not node["$ref"].startswith(_SCHEMA_REF):
        node = _pointer(spec, node["$ref"])
    return node


def _path_item(filename: str, path: str) -> dict[str, Any] | None:
    return load_spec(filename)["paths"].get(path) or recorded(filename).get("paths", {}).get(path)


def _operation(spec: dict[str, Any], path: str, method: str, filename: str | None = None) -> dict[str, Any]:
    item = spec["paths"].get(path)
    if item is None and filename is not None:
        item = recorded(filename).get("paths", {}).get(path)
    try:
        return item[method.lower()]
    except (KeyError, TypeError):
        raise AssertionError(f"{method.upper()} {path} is not in the vendor's API description") from None


def _root(spec: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    if "definitions" in spec:
        root["definitions"] = spec["definitions"]
    if "components" in spec:
        root["components"] = spec["components"]
    return root


def _validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any, what: str) -> None:
    document = {**_root(spec), "allOf": [schema]}
    validator = jsonschema.Draft4Validator(document)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        detail = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        raise AssertionError(f"{what} does not match the vendor's schema: {detail}")


def response_schema(filename: str, path: str, method: str, status: int | str = 200) -> dict[str, Any]:
    spec = load_spec(filename)
    responses = _operation(spec, path, method, filename)["responses"]
    response = _deref(spec, responses.get(str(status)) or responses.get("default"))
    if response is None:
        raise AssertionError(f"{method.upper()} {path} documents no {status} response")
    if "schema" in response:  # Swagger 2.0
        return response["schema"]
    content = response.get("content", {})
    for media in ("application/json", "application/json; charset=utf-8", "*/*", "text/json"):
        if media in content and "schema" in content[media]:
            return content[media]["schema"]
    for media in content.values():
        if "schema" in media:
            return media["schema"]
    raise AssertionError(f"{method.upper()} {path} {status} has no response schema")


def request_schema(filename: str, path: str, method: str) -> dict[str, Any]:
    spec = load_spec(filename)
    operation = _operation(spec, path, method, filename)
    for parameter in operation.get("parameters", []):  # Swagger 2.0 body parameter
        if _deref(spec, parameter).get("in") == "body":
            return _deref(spec, parameter)["schema"]
    body = _deref(spec, operation.get("requestBody"))
    if body:
        for media in body.get("content", {}).values():
            if "schema" in media:
                return media["schema"]
    raise AssertionError(f"{method.upper()} {path} takes no documented body")


def assert_response_matches(filename: str, path: str, method: str, body: Any, status: int | str = 200) -> None:
    """The sandbox's answer has the shape the vendor documents for that operation."""
    spec = load_spec(filename)
    _validate(spec, response_schema(filename, path, method, status), body, f"{method.upper()} {path} response")


def assert_request_matches(filename: str, path: str, method: str, body: Any) -> None:
    """The client's request body has the shape the vendor documents for that operation."""
    spec = load_spec(filename)
    _validate(spec, request_schema(filename, path, method), body, f"{method.upper()} {path} request")


def assert_path_documented(filename: str, path: str, method: str) -> None:
    _operation(load_spec(filename), path, method, filename)


# -- query parameters -----------------------------------------------------------------------------
def query_parameters(filename: str, path: str, method: str) -> dict[str, dict[str, Any]]:
    """Name → the value's schema for every query parameter the operation documents (path-level ones,
    the operation's own and those recorded outside the description), with ``required`` set."""
    spec = load_spec(filename)
    operation = _operation(spec, path, method, filename)
    item = _path_item(filename, path) or {}
    found: dict[str, dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _deref(spec, raw)
        if parameter.get("in") == "query":
            found[parameter["name"]] = _parameter_schema(parameter)
    for supplement in recorded(filename).get("query", []):
        if re.fullmatch(supplement["paths"], path) and method.lower() in supplement["methods"]:
            for parameter in supplement["parameters"]:
                found.setdefault(parameter["name"], _parameter_schema(parameter))
    return found


def _parameter_schema(parameter: Mapping[str, Any]) -> dict[str, Any]:
    schema = dict(parameter["schema"]) if "schema" in parameter else {  # OpenAPI 3 / Swagger 2
        k: v for k, v in parameter.items() if k not in ("name", "in", "required", "collectionFormat", "description")}
    schema["x-required"] = bool(parameter.get("required"))
    if "collectionFormat" in parameter:
        schema["x-collection"] = parameter["collectionFormat"]
    return schema


def _resolved_type(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    while "$ref" in schema:
        schema = _pointer(spec, schema["$ref"])
    kind = schema.get("type")
    return kind[0] if isinstance(kind, list) else kind


def _typed(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> Any:
    """A query string value as the JSON value its schema describes; ValueError when it cannot be one."""
    kind = _resolved_type(spec, schema)
    if kind == "array":
        parts = value if isinstance(value, list) else str(value).split("," if schema.get("x-collection", "csv")
                                                                         == "csv" else "|")
        return [_typed(spec, schema.get("items", {}), part) for part in parts]
    if isinstance(value, list):
        raise ValueError("repeated, but not a list parameter")
    if kind == "integer":
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value)):
            raise ValueError("not an integer")
        return int(value)
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError("not a number")
        return float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() not in ("true", "false"):
            raise ValueError("not true or false")
        return str(value).lower() == "true"
    return value if isinstance(value, str) else str(value)


def assert_query_matches(filename: str, path: str, method: str, params: Mapping[str, Any]) -> None:
    """Every query parameter the client sends is one the vendor documents for the operation, with a
    value of the documented type (integers, booleans ``true``/``false``, enums, limits), and none the
    operation requires is missing. ``params``: name → value as sent (a string, or a list when repeated)."""
    spec = load_spec(filename)
    documented = query_parameters(filename, path, method)
    what = f"{method.upper()} {path}"
    unknown = sorted(set(params) - set(documented))
    if unknown:
        raise AssertionError(f"{what} sends query parameters the vendor does not document: {unknown}")
    missing = sorted(name for name, schema in documented.items() if schema["x-required"] and name not in params)
    if missing:
        raise AssertionError(f"{what} lacks required query parameters: {missing}")
    for name, value in params.items():
        schema = {k: v for k, v in documented[name].items() if not k.startswith("x-")}
        try:
            typed = _typed(spec, documented[name], value)
        except ValueError as error:
            raise AssertionError(f"{what} query parameter {name}={value!r}: {error}") from None
        _validate(spec, schema, typed, f"{what} query parameter {name}={value!r}")


# -- error bodies recorded outside the description ------------------------------------------------
def assert_error_matches(filename: str, status: int, body: Any) -> None:
    """An error answer has the shape recorded for that status (the digest's ``x-recorded.errors``, each
    with its source), for errors a description leaves out, such as a rate limiter's 429."""
    shapes = [e for e in recorded(filename).get("errors", []) if e["status"] == status and e.get("schema")]
    if not shapes:
        raise AssertionError(f"no {status} error shape is recorded for {filename}")
    spec = load_spec(filename)
    _validate(spec, _nullable(shapes[0]["schema"]), body, f"{status} answer")
