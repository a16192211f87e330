"""Which side of a pair failed, in the words support staff read."""

from __future__ import annotations

from types import SimpleNamespace

from integrations.engine.process import _system_name, plain_error
from integrations.systems.errors import ExternalSystemError, VendorValidationError

CTX = SimpleNamespace(crm=SimpleNamespace(system="webcrm", name="webCRM"),
                      erp=SimpleNamespace(system="uniconta", name="Uniconta"))


def test_an_error_that_names_its_system_is_put_on_that_side_whatever_its_text_says():
    error = VendorValidationError("Uniconta refused the data: the webCRM id is not a debtor field",
                                  vendor_message="the webCRM id is not a debtor field", system="uniconta")
    assert _system_name(CTX, error) == "Uniconta"
    assert plain_error(error, _system_name(CTX, error)) == (
        "Uniconta refused the data: the webCRM id is not a debtor field")


def test_without_a_system_the_text_decides_and_an_unknown_one_is_the_other_system():
    assert _system_name(CTX, ExternalSystemError("Uniconta has no Debtor with Account 7")) == "Uniconta"
    assert _system_name(CTX, ExternalSystemError("Something went wrong")) == "The other system"
