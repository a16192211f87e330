"""Record names longer than the label column are cut when saved, on every database."""

from __future__ import annotations

import pytest

from integrations.models import SyncLink
from tests.factories import IntegrationFactory


@pytest.mark.django_db
def test_a_name_longer_than_the_column_is_saved_cut_with_an_ellipsis():
    integration = IntegrationFactory()
    name = "Björkdals Bygg och Entreprenad Aktiebolag " * 8  # 336 characters
    link = SyncLink.objects.create(tenant=integration.tenant, integration=integration, entity="organisation",
                                   crm_id="1", erp_id="2", label=name)
    stored = SyncLink.objects.get(pk=link.pk).label
    assert len(stored) <= 200 and stored.endswith("…") and name.startswith(stored[:-1])
    SyncLink.objects.filter(pk=link.pk).update(label="Kort navn")
    assert SyncLink.objects.get(pk=link.pk).label == "Kort navn"
