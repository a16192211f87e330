"""How far a change stream has been stored: one offset per connection and topic (Fortnox's WebSocket API)."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class StreamOffset(TenantOwned):
    """The offset of the last event of ``topic`` that Synkro stored for ``connection``.

    Written in the transaction that stores the event, never before, so a listener that restarts asks
    Fortnox for what came after it: nothing stored is lost and nothing is stored twice. Offsets are
    Fortnox's opaque text (docs/vendors/fortnox.md "Change events").
    """

    connection = models.ForeignKey("integrations.Connection", on_delete=models.CASCADE, related_name="stream_offsets")
    topic = models.CharField(max_length=40)
    offset = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "topic"], name="one_stream_offset_per_topic")]

    def __str__(self) -> str:
        return f"{self.topic} @ {self.offset}"
