"""Validate what clients send and sandboxes answer against the vendors' published API descriptions.

The descriptions live in ``../shared/specs/`` beside the repository (Swagger 2.0 or OpenAPI 3.0).
Schemas are taken from the operation (path template + method) so a test states which real endpoint
it exercises; OpenAPI's ``nullable`` and Swagger's ``x-nullable`` become JSON-Schema null types.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPECS_DIR = Path(os.environ.get("SYNKRO_SPECS_DIR") or
                 Path(__file__).resolve().parents[3].parent / "shared" / "specs")


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
def load_spec(filename: str) -> dict[str, Any]:
    return _nullable(json.loads((SPECS_DIR / filename).read_text()))


def _operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    try:
        return spec["paths"][path][method.lower()]
    except KeyError:
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
    responses = _operation(spec, path, method)["responses"]
    response = responses.get(str(status)) or responses.get("default")
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
    operation = _operation(spec, path, method)
    for parameter in operation.get("parameters", []):  # Swagger 2.0 body parameter
        if parameter.get("in") == "body":
            return parameter["schema"]
    body = operation.get("requestBody")
    if body and "$ref" in body:
        ref = body["$ref"].split("/")[-1]
        body = spec["components"]["requestBodies"][ref]
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
    _operation(load_spec(filename), path, method)
