"""The vendor-facts digest (docs/vendors/facts/) is whole, sourced, and in step with the vendors' descriptions.

Where the description files are at hand (``$SYNKRO_SPECS_DIR`` or ``../shared/specs``), the digest must equal
what ``scripts/vendor_digest.py`` makes of them today. Everywhere, each digest must name its source and date
and hold every operation the contract tests exercise, and the script itself is checked on a small description.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from .contract import (
    DESCRIPTION,
    DIGEST_DIR,
    REPO,
    SPECS_DIR,
    assert_error_matches,
    assert_path_documented,
    assert_query_matches,
    available_sources,
    digest_files,
    spec_source,  # noqa: F401 - the named operations are checked in the digest and, when at hand, the description
)


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("vendor_digest", REPO / "scripts" / "vendor_digest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("vendor_digest", module)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()

#: Every operation a contract test of tests/integrations/systems/<vendor>/ exercises, by spec.
NAMED_OPERATIONS: dict[str, list[tuple[str, str]]] = {
    "webcrm-swagger.json": [
        ("/Auth/ApiLogin", "post"), ("/Auth/ApiRefresh", "post"), ("/Queries", "get"),
        ("/Organisations/FindByUpdateDates/{startDate}/{endDate}", "get"), ("/Deliveries/{id}/QuotationLines", "get"),
        ("/QuotationLines/LinkedData", "get"), ("/QuotationLines/LinkedData", "post"),
        ("/QuotationLines/LinkedData/{id}", "get"), ("/QuotationLines/LinkedData/{id}", "put"),
        ("/QuotationLines/LinkedData/{id}", "delete"),
        *[(f"/{resource}", method) for resource in ("Organisations", "Persons", "Deliveries", "QuotationLines",
                                                     "Products", "Users") for method in ("get", "post")],
        *[(f"/{resource}/{{id}}", method) for resource in ("Organisations", "Persons", "Deliveries", "QuotationLines",
                                                            "Products", "Users") for method in ("get", "put")],
        ("/QuotationLines/{id}", "delete"), ("/Products/{id}", "delete"),
        *[(f"/{resource}/Hooks", method) for resource in ("Organisations", "Persons", "Deliveries", "QuotationLines",
                                                           "Products", "Users") for method in ("get", "post")],
        *[(f"/{resource}/Hooks/{{id}}", method) for resource in ("Organisations", "Persons", "Deliveries",
                                                                  "QuotationLines", "Products", "Users")
          for method in ("get", "put", "delete")],
    ],
    "fortnox-openapi.json": [
        *[(f"/3/{resource}", method) for resource in ("customers", "articles", "orders", "invoices", "employees")
          for method in ("get", "post")],
        *[(f"/3/{resource}/{{{key}}}", method) for resource, key in (
            ("customers", "CustomerNumber"), ("articles", "ArticleNumber"), ("orders", "DocumentNumber"),
            ("invoices", "DocumentNumber"), ("employees", "EmployeeId")) for method in ("get", "put")],
        ("/3/customers/{CustomerNumber}", "delete"), ("/3/articles/{ArticleNumber}", "delete"),
        ("/3/orders/{DocumentNumber}/cancel", "put"), ("/3/orders/{DocumentNumber}/createinvoice", "put"),
        ("/3/invoices/{DocumentNumber}/bookkeep", "put"), ("/3/invoices/{DocumentNumber}/cancel", "put"),
    ],
    "vismanet-legacy-swagger.json": [
        *[(f"/controller/api/v1/{resource}", method) for resource in (
            "customer", "contact", "inventory", "salesorder", "customerinvoice") for method in ("get", "post")],
        ("/controller/api/v1/employee", "get"), ("/controller/api/v1/employee/{employeeCd}", "get"),
        ("/controller/api/v1/customer/{customerCd}", "get"), ("/controller/api/v1/customer/{customerCd}", "put"),
        ("/controller/api/v1/contact/{contactId}", "get"), ("/controller/api/v1/contact/{contactId}", "put"),
        ("/controller/api/v1/inventory/{inventoryNumber}", "get"),
        ("/controller/api/v1/inventory/{inventoryCd}", "put"),
        ("/controller/api/v1/salesorder/{orderNbr}", "get"),
        ("/controller/api/v1/salesorder/{salesOrderNumber}", "put"),
        ("/controller/api/v1/customerinvoice/{invoiceNumber}", "get"),
        ("/controller/api/v1/customerinvoice/{invoiceNumber}", "put"),
        ("/controller/api/v1/customer/{customerNumber}/invoice", "get"),
        ("/controller/api/v1/customer/{customerCd}/salesorder", "get"),
    ],
    "customers1st-openapi.json": [
        ("/customers", "get"), ("/customers", "post"), ("/customers/{customerId}", "get"),
        ("/customers/{customerId}", "put"), ("/customers/{customerId}", "delete"),
        ("/products", "get"), ("/products", "post"), ("/products/{productId}", "get"),
        ("/products/{productId}", "put"), ("/products/{productId}", "delete"),
        ("/pospayments", "get"), ("/pospayments", "post"), ("/pospayments/{paymentId}", "get"),
        ("/pospayments/{paymentId}", "put"), ("/posbalances", "get"), ("/registers", "get"), ("/registers", "post"),
        ("/registers/{id}", "get"), ("/users", "get"), ("/users", "post"), ("/hooks", "get"), ("/hooks", "post"),
        ("/hooks/events", "get"), ("/hooks/{hookId}", "get"), ("/hooks/{hookId}", "put"),
        ("/hooks/{hookId}", "delete"), ("/settings/store", "get"), ("/settings/configs", "get"),
        ("/settings/configs", "put"),
    ],
    "uniconta": [
        ("/odata/{CompanyId}/{Entity}", "get"), ("/api/Entities/Insert/{Entity}", "post"),
        ("/api/Entities/Update/{Entity}", "put"), ("/api/Entities/Delete/{Entity}", "delete"),
    ],
    "vismanet-salesorders": [
        ("/api/v3/SalesOrders", "get"), ("/api/v3/SalesOrders", "post"),
        ("/api/v3/SalesOrders/{type}/{orderId}", "get"), ("/api/v3/SalesOrders/{type}/{orderId}", "patch"),
        ("/api/v3/SalesOrders/{type}/{orderId}/lines", "get"), ("/api/v3/SalesOrders/{type}/{orderId}/lines", "post"),
        ("/api/v3/SalesOrders/{type}/{orderId}/lines", "patch"),
        ("/api/v3/SalesOrders/{type}/{orderId}/lines", "delete"),
    ],
}


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("vendor", SCRIPT.VENDORS, ids=lambda vendor: vendor.name)
def test_each_digest_is_in_step_with_its_description_or_whole_on_its_own(vendor):
    current = _read(SCRIPT.digest_path(vendor.name))
    if DESCRIPTION in available_sources():
        fresh = SCRIPT.produce(vendor, SPECS_DIR)
        assert SCRIPT._without_date(current) == fresh, (
            f"{vendor.name}: the digest is out of date; run python scripts/vendor_digest.py")
    else:
        assert SCRIPT.integrity_problems(current) == []
        source = current["x-digest"]["source"]
        assert source["file"] == vendor.source and len(source["sha256"]) == 64
        assert current["x-digest"]["families"] == list(vendor.families)
        assert current.get("x-recorded", {}) == vendor.supplements  # the facts recorded in the script, as written
    produced = dt.date.fromisoformat(current["x-digest"]["produced"])
    assert dt.date(2024, 1, 1) <= produced <= dt.datetime.now(dt.UTC).date()
    assert SCRIPT.render(current) == SCRIPT.digest_path(vendor.name).read_text(encoding="utf-8")  # as the script writes


@pytest.mark.parametrize("name", SCRIPT.HAND_RECORDED)
def test_hand_recorded_digests_name_their_sources(name):
    document = _read(SCRIPT.digest_path(name))
    assert SCRIPT.integrity_problems(document) == []
    assert document["x-digest"]["recorded"] is True
    assert all(source.strip() for source in document["x-digest"]["sources"])


@pytest.mark.parametrize("spec", sorted(NAMED_OPERATIONS))
def test_every_operation_the_contract_tests_name_is_documented(spec):
    missing = []
    for path, method in NAMED_OPERATIONS[spec]:
        try:
            assert_path_documented(spec, path, method)
        except AssertionError:
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_facts_recorded_beside_a_description_are_checked_like_its_own():
    assert_query_matches("fortnox-openapi.json", "/3/customers", "get", {"page": "2", "limit": "100",
                                                                        "lastmodified": "2026-03-01 08:00"})
    with pytest.raises(AssertionError, match="not an integer"):
        assert_query_matches("fortnox-openapi.json", "/3/customers", "get", {"page": "two"})
    with pytest.raises(AssertionError, match="does not match"):
        assert_query_matches("fortnox-openapi.json", "/3/customers", "get", {"filter": "deleted"})  # enum
    assert_error_matches("webcrm-swagger.json", 429, {"RetryAfterSeconds": 14, "Message": "throttled",
                                                      "Type": "TooManyRequestsException"})
    with pytest.raises(AssertionError, match="does not match"):
        assert_error_matches("webcrm-swagger.json", 429, {"Message": "throttled"})
    with pytest.raises(AssertionError, match="no 418 error shape"):
        assert_error_matches("webcrm-swagger.json", 418, {})


def test_every_digest_file_is_known_to_the_script():
    names = {path.stem for path in DIGEST_DIR.glob("*.json")}
    assert names == {vendor.name for vendor in SCRIPT.VENDORS} | set(SCRIPT.HAND_RECORDED)
    assert set(digest_files()) >= {vendor.source for vendor in SCRIPT.VENDORS}


# -- the script on a small description --------------------------------------------------------------
MINI = {
    "swagger": "2.0", "info": {"title": "Mini", "version": "v1", "description": "dropped"},
    "paths": {
        "/Things": {"get": {
            "summary": "dropped", "operationId": "ThingsGet",
            "parameters": [{"name": "Size", "in": "query", "type": "integer", "maximum": 100, "required": False,
                            "description": "dropped"},
                           {"name": "Page", "in": "query", "type": "integer", "required": False}],
            "responses": {"200": {"description": "dropped", "schema": {"type": "array",
                                                                      "items": {"$ref": "#/definitions/Thing"}}},
                          "404": {"description": "gone"}}}},
        "/Other": {"get": {"responses": {"200": {"schema": {"$ref": "#/definitions/Unused"}}}}},
    },
    "definitions": {
        "Thing": {"type": "object", "required": ["Name"], "example": {"Name": "x"}, "properties": {
            "Name": {"type": "string", "maxLength": 50, "description": "dropped"},
            "description": {"type": "string", "x-nullable": True},
            "Kind": {"type": "string", "enum": ["A", "B"]}, "Part": {"$ref": "#/definitions/Part"}}},
        "Part": {"type": "object", "properties": {"Size": {"type": "integer", "format": "int32"}}},
        "Unused": {"type": "object"},
    },
}
README = "| File | What | Source |\n|---|---|---|\n| `mini.json` | a test | someone/mini `spec/mini.json` @abc123 |\n"


@pytest.fixture
def mini(tmp_path, monkeypatch):
    specs, out = tmp_path / "specs", tmp_path / "facts"
    specs.mkdir()
    (specs / "mini.json").write_text(json.dumps(MINI), encoding="utf-8")
    (specs / "README.md").write_text(README, encoding="utf-8")
    monkeypatch.setattr(SCRIPT, "VENDORS", (SCRIPT.Vendor(name="mini", source="mini.json", families=(r"/Things",)),))
    monkeypatch.setattr(SCRIPT, "HAND_RECORDED", ())
    return specs, out


def test_the_script_keeps_what_validation_needs_and_drops_prose(mini):
    specs, out = mini
    assert SCRIPT.main(["--specs", str(specs), "--out", str(out)]) == 0
    digest = _read(out / "mini.json")

    assert set(digest["paths"]) == {"/Things"}  # /Other is outside the families
    assert set(digest["definitions"]) == {"Thing", "Part"}  # referenced ones closed over, Unused left out
    thing = digest["definitions"]["Thing"]
    assert thing == {"type": "object", "required": ["Name"], "properties": {
        "Name": {"type": "string", "maxLength": 50}, "description": {"type": "string", "x-nullable": True},
        "Kind": {"type": "string", "enum": ["A", "B"]}, "Part": {"$ref": "#/definitions/Part"}}}
    operation = digest["paths"]["/Things"]["get"]
    assert operation["parameters"] == [
        {"in": "query", "name": "Page", "required": False, "type": "integer"},
        {"in": "query", "maximum": 100, "name": "Size", "required": False, "type": "integer"}]
    assert operation["responses"]["404"] == {}
    assert digest["x-digest"]["source"] == {
        "file": "mini.json", "repository": "someone/mini", "path": "spec/mini.json", "commit": "abc123",
        "sha256": digest["x-digest"]["source"]["sha256"]}
    assert digest["x-digest"]["produced"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_the_script_is_deterministic_and_its_check_finds_a_stale_digest(mini, capsys):
    specs, out = mini
    SCRIPT.main(["--specs", str(specs), "--out", str(out)])
    first = (out / "mini.json").read_text(encoding="utf-8")
    written = _read(out / "mini.json")
    written["x-digest"]["produced"] = "2025-01-02"
    (out / "mini.json").write_text(SCRIPT.render(written), encoding="utf-8")

    assert SCRIPT.main(["--specs", str(specs), "--out", str(out), "--check"]) == 0  # only the date differs
    assert SCRIPT.main(["--specs", str(specs), "--out", str(out)]) == 0
    assert _read(out / "mini.json")["x-digest"]["produced"] == "2025-01-02"  # unchanged content keeps its date
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert (out / "mini.json").read_text(encoding="utf-8") == first.replace(
        f'"produced": "{today}"', '"produced": "2025-01-02"')

    changed = json.loads(json.dumps(MINI))
    changed["definitions"]["Thing"]["properties"]["Name"]["maxLength"] = 60
    (specs / "mini.json").write_text(json.dumps(changed), encoding="utf-8")
    capsys.readouterr()
    assert SCRIPT.main(["--specs", str(specs), "--out", str(out), "--check"]) == 1
    assert "OUT OF DATE" in capsys.readouterr().err
    assert _read(out / "mini.json")["definitions"]["Thing"]["properties"]["Name"]["maxLength"] == 50  # untouched


def test_the_script_says_when_the_descriptions_are_not_at_hand(mini, tmp_path, capsys):
    _specs, out = mini
    assert SCRIPT.main(["--specs", str(tmp_path / "nowhere"), "--out", str(out), "--check"]) == 2
    assert "cannot read the description" in capsys.readouterr().err
