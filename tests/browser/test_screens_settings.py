"""Settings screens in a browser: the mapping table reads like webCRM's own organisation settings, settings that do
not apply are out of sight, and a person who may not change settings sees them read-only with who can.

Set ``SCREENSHOTS_DIR`` to keep a screenshot of the screens at 1400 × 900 there.
"""

from __future__ import annotations

import pytest

from mappings.models import FieldMapping
from tests.browser.login import log_in
from tests.browser.test_screens_layout import DESKTOP, PHONE, page_overflow, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settings_url(live_server, world, entity: str) -> str:
    return f"{live_server.url}/t/{world.tenant.slug}/integrations/{world.integration.pk}/settings/{entity}/"


def test_mapping_rows_carry_the_catalogs_labels_and_the_plus_stays_on_the_add_row(page, live_server, world):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "anna-admin")
    page.goto(settings_url(live_server, world, "organisation"))
    shoot(page, "mapping")
    mapping = FieldMapping.objects.get(entity_sync__integration=world.integration, crm_field="OrganisationName")
    row = page.locator(f"#mapping-{mapping.pk}")
    crm_cell = row.locator("td").nth(1)
    assert crm_cell.locator(".field-label").inner_text() == "Name"  # webCRM's catalog label of OrganisationName
    assert crm_cell.locator(".api-name").inner_text() == "OrganisationName"
    option = page.locator("#id_crm_field option[value=OrganisationName]").inner_text()
    assert option.startswith("Name")  # the select says the same
    assert float(crm_cell.locator(".api-name").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) < float(
        crm_cell.locator(".field-label").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))

    # An add with nothing chosen shows the errors in the row, and the + stays in the row's last cell.
    page.get_by_role("button", name="Add mapping row").click()
    page.wait_for_selector("#mapping-table .add-row .errorlist")
    shoot(page, "mapping-error")
    add_row = page.locator("#mapping-table tr.add-row")
    plus = add_row.get_by_role("button", name="Add mapping row")
    assert plus.count() == 1
    row_box, plus_box = add_row.bounding_box(), plus.bounding_box()
    erp_select = add_row.locator("#id_erp_field").bounding_box()
    assert row_box["y"] <= plus_box["y"] and plus_box["y"] + plus_box["height"] <= row_box["y"] + row_box["height"]
    assert abs(plus_box["y"] - erp_select["y"]) < 8  # level with the selects, not pushed under the errors
    header_cells = page.locator("#mapping-table thead th")
    for n in (0, 1):  # each select sits in the column it fills
        head, cell = header_cells.nth(n).bounding_box(), add_row.locator("td").nth(n).bounding_box()
        assert abs(head["x"] - cell["x"]) < 1
    assert FieldMapping.objects.filter(entity_sync__integration=world.integration).count() >= 1


def test_settings_that_do_not_apply_are_hidden_and_come_back_when_they_do(page, live_server, world):
    world.integration.entity_syncs.filter(entity="organisation").update(direction="to_erp")
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "anna-admin")
    page.goto(settings_url(live_server, world, "organisation"))
    owner = page.locator("[data-setting=conflict_owner]")
    assert owner.count() == 1 and not owner.is_visible()  # one way: nothing to decide between both sides
    page.locator("#entity-settings-form label", has_text="Two way").click()
    assert owner.is_visible()

    page.goto(settings_url(live_server, world, "delivery"))
    accepted = page.locator("[data-setting=accepted_order_types]")
    assert accepted.count() == 1 and not accepted.is_visible()  # webCRM → ERP: nothing comes back
    order_type = page.locator("[data-setting=outgoing_order_type]")
    assert not order_type.is_visible()  # Uniconta's sales orders carry no order type
    page.locator("#entity-settings-form label", has_text="Two way").click()
    assert accepted.is_visible()


def test_a_customer_sees_settings_read_only_and_who_may_change_them(page, live_server, world):
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "carl-customer")
    note = f"Only administrators of {world.tenant.name} can change these settings."
    base = f"{live_server.url}/t/{world.tenant.slug}/integrations/{world.integration.pk}"
    for path, form in ((f"{base}/settings/organisation/", "#entity-settings-form"),
                       (f"{base}/schedules/", "main form"),
                       (f"{live_server.url}/t/{world.tenant.slug}/integrations/{world.rows.pos_integration.pk}/pos/",
                        "main form")):
        page.goto(path)
        shoot(page, "customer-" + path.rstrip("/").rsplit("/", 1)[-1])
        assert page.get_by_role("note").first.inner_text() == note, path
        inputs = page.locator(f"{form} input:not([type=hidden]), {form} select, {form} textarea")
        assert inputs.count() > 0
        assert inputs.evaluate_all("els => els.every(e => e.matches(':disabled'))"), path
        assert page.get_by_role("button", name="Save").count() == 0
        assert page.locator("button[type=submit]:visible", has_text="Save").count() == 0
    # What a customer may do stays possible: switching the webhooks.
    page.goto(f"{base}/webhooks/")
    toggles = page.locator("input[data-toggle]")
    assert toggles.count() > 0 and toggles.evaluate_all("els => els.every(e => !e.matches(':disabled'))")
    assert page.get_by_role("note").count() == 0
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/settings/organisation/")
    assert page_overflow(page) <= 0
