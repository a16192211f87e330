"""Values a connected system was seen to offer for one of its fields (webCRM's organisation types), with when."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class ObservedValues(TenantOwned):
    """The values ``connection``'s system offers for ``field`` of ``entity``, as last read through its API.

    One row per connection, entity and field, kept in the database so every worker and every restart sees the
    same list; ``read_at`` says how old it is. Read and refreshed by ``mappings/trigger_values.py``.
    """

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE,
                                   related_name="observed_values")
    entity = models.CharField(max_length=30)
    field = models.CharField(max_length=120)
    #: The values in the system's own order, e.g. ["Kunde", "Prospekt", "Leverandør"].
    values = models.JSONField(default=list, blank=True)
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "entity", "field"],
                                               name="one_observed_list_per_field")]
        verbose_name = "observed values"
        verbose_name_plural = "observed values"

    def __str__(self) -> str:
        return f"{self.field}: {', '.join(map(str, self.values))}"
