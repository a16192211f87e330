"""In the browser: previewing a proposed mapping row from the htmx mapping table lands on its plan."""

import pytest

from integrations.models import RunKind, SyncRun
from mappings.defaults import integration_setup_defaults
from mappings.models import FieldMapping
from tests.browser.login import log_in
from tests.factories import IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_preview_with_this_row_opens_the_plan_and_adds_no_row(page, live_server, world):
    integration = IntegrationFactory(tenant=world.tenant, name="Shop sync")
    integration_setup_defaults(integration=integration)
    rows_before = FieldMapping.objects.filter(entity_sync__integration=integration).count()

    log_in(page, live_server, "anna-admin")
    page.goto(f"{live_server.url}/t/{world.tenant.slug}/integrations/{integration.pk}/settings/organisation/")
    page.fill("#id_erp_user_field", "xSegment")
    page.select_option("#id_crm_field", "OrganisationExtraCustom5")
    page.get_by_role("button", name="Preview with this row").click()
    page.wait_for_selector("h1:has-text('Preview of a settings change')")

    run = SyncRun.objects.get(kind=RunKind.PREVIEW)
    assert page.url.endswith(f"/runs/{run.pk}/plan/")
    assert run.cursor["config"]["rows"][-1]["erp_field"] == "xSegment"
    assert FieldMapping.objects.filter(entity_sync__integration=integration).count() == rows_before
