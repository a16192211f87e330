"""The reference the webhook endpoint is measured against: a plain Django view doing one INSERT of a comparable row.

Bench-only. ``bench.ingest`` serves it beside the product from the same gunicorn (``bench.ingest_settings`` names
this module as the URL conf), so both go through the same settings, middleware and database. The product's URL conf
never includes it.

``POST /bench/reference/<tenant id>/<integration id>/`` with a webCRM notice as the body (``bench.loadgen``'s) stores
one pending event of system ``reference`` through the ORM (``Model.objects.create``, one INSERT in autocommit) and
answers 200; a body that is not such a notice answers 400.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as product_urlpatterns
from integrations.models import InboundEvent

#: The events the reference stores are told apart from the webhook's by this system name.
REFERENCE_SYSTEM = "reference"


@csrf_exempt
@require_POST
def reference_insert(request: HttpRequest, tenant_id: int, integration_id: int) -> JsonResponse:
    try:
        notice = json.loads(request.body)
        record_id = str(notice["EntityId"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "Not a notice."}, status=400)
    event = InboundEvent.objects.create(tenant_id=tenant_id, integration_id=integration_id, system=REFERENCE_SYSTEM,
                                        entity="organisation", action="updated", external_id=record_id,
                                        payload=notice)
    return JsonResponse({"stored": 1, "id": event.pk})


urlpatterns = [
    path("bench/reference/<int:tenant_id>/<int:integration_id>/", reference_insert, name="bench-reference"),
    *product_urlpatterns,
]
