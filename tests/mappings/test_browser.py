"""In the browser: configure organisations, edit the mapping table with htmx, toggle a webhook as a customer."""

import pytest

from mappings.defaults import integration_setup_defaults
from mappings.models import EntitySync, FieldMapping, WebhookToggle
from tests.browser.login import log_in
from tests.factories import IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_configures_organisations_and_customer_toggles_a_webhook(page, live_server, world):
    integration = IntegrationFactory(tenant=world.tenant, name="Shop sync")
    integration_setup_defaults(integration=integration)
    EntitySync.objects.filter(integration=integration, entity="organisation").update(
        direction="off", trigger_field="", trigger_values=[])
    settings_url = f"{live_server.url}/t/{world.tenant.slug}/integrations/{integration.pk}/settings/organisation/"
    rows_before = FieldMapping.objects.filter(entity_sync__integration=integration).count()

    log_in(page, live_server, "anna-admin")
    page.goto(settings_url)
    page.get_by_label("Two way").check()
    page.select_option("#id_trigger_field", "type")
    page.fill("#id_trigger_values", "Kunde")

    # Add a custom-field row: htmx swaps the table in place, no page load.
    page.evaluate("window.__marker = 'still here'")
    page.fill("#id_erp_user_field", "xSegment")
    page.select_option("#id_crm_field", "OrganisationExtraCustom5")
    page.get_by_role("button", name="Add mapping row").click()
    page.wait_for_selector(".api-name:text-is('xSegment')")
    assert page.evaluate("window.__marker") == "still here"

    # Remove another row.
    page.get_by_role("button", name="Remove Www ↔ OrganisationWww").click()
    page.wait_for_selector("text=Removed Www ↔ OrganisationWww")
    assert page.evaluate("window.__marker") == "still here"

    # The direction and trigger typed before the row edits are still in the form: save them.
    page.get_by_role("button", name="Save organisations / debtors settings").click()
    page.wait_for_selector("text=Organisations / debtors saved")

    page.reload()
    assert page.get_by_label("Two way").is_checked()
    assert page.input_value("#id_trigger_values") == "Kunde"
    assert page.locator(".api-name:text-is('xSegment')").count() == 1
    assert page.locator(".api-name:text-is('OrganisationWww')").count() == 0
    # Now that organisations sync two way, a row between text and a number is kept, and says in words what the
    # sync converts and what it refuses.
    page.select_option("#id_erp_field", "CreditMax")
    page.select_option("#id_crm_field", "OrganisationExtraCustom6")
    page.get_by_role("button", name="Add mapping row").click()
    page.wait_for_selector("text=the text must be a number")
    assert page.locator("text=numbers are written as text").count() >= 1
    assert page.locator(".api-name:text-is('CreditMax')").count() == 1
    FieldMapping.objects.filter(entity_sync__integration=integration, erp_field="CreditMax").delete()

    sync = EntitySync.objects.get(integration=integration, entity="organisation")
    assert (sync.direction, sync.trigger_field, sync.trigger_values) == ("two_way", "type", ["Kunde"])
    # One row added, one removed.
    assert FieldMapping.objects.filter(entity_sync__integration=integration).count() == rows_before

    # The customer toggles "deleted" webhooks for webCRM organisations on.
    page.context.clear_cookies()
    log_in(page, live_server, "carl-customer")
    page.goto(f"{live_server.url}/t/{world.tenant.slug}/integrations/{integration.pk}/webhooks/")
    toggle = WebhookToggle.objects.get(integration=integration, system="webcrm", entity="organisation",
                                       action="deleted")
    box = page.locator("[data-toggle='webcrm-organisation-deleted']")
    assert not box.is_checked()
    box.check()
    # Read the database only once the page shows the answer: the server's write is then committed.
    page.wait_for_selector(f"#toggle-{toggle.pk} >> text=On")
    toggle.refresh_from_db()
    assert toggle.enabled
