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


def test_a_parked_change_is_summed_up_in_the_systems_own_names_and_words():
    from types import SimpleNamespace

    from integrations.engine.process import _failed_reason
    from integrations.systems.registry import get_system

    def side(system, entity):
        provider = get_system(system)
        return SimpleNamespace(system=system, name=provider.name, spec=provider.catalog().entity(entity))

    ctx = SimpleNamespace(crm=side("customers1st", "pos_sale"), erp=side("uniconta", "pos_sale"))
    event = SimpleNamespace(system="uniconta", entity="pos_sale", action="updated")
    assert _failed_reason(event, ctx) == "A sales order (POS sale) changed in Uniconta could not be synced."
    event = SimpleNamespace(system="customers1st", entity="pos_sale", action="created")
    assert _failed_reason(event, ctx) == "A POS payment made in Customers 1st could not be synced."
    ctx = SimpleNamespace(crm=side("webcrm", "organisation"), erp=side("uniconta", "organisation"))
    event = SimpleNamespace(system="webcrm", entity="organisation", action="updated")
    assert _failed_reason(event, ctx) == "An organisation changed in webCRM could not be synced."
