"""Possible matches: records whose counterpart could not be proven wait here for a person to decide.

Everyone in the tenant reads them; admins and support decide (Link these / Create new / Skip). Thin: reads
come from ``review_selectors``, the decision from ``integrations.engine.review``. htmx posts get the match's
card back; plain posts are redirected to the list with a message. A refused decision or bad input answers 400
with the reason beside the buttons, and nothing is written.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from integrations.engine.review import DECISIONS, DecisionRefused, possible_match_decide
from integrations.models import Integration, PossibleMatch
from tenants.access import get_scoped_or_404, scoped
from tenants.decorators import tenant_view

from . import review_selectors
from .review_selectors import LIST_LIMIT, SHOWN


def can_decide(access) -> bool:
    """Admins and support decide possible matches; customers read them."""
    return access.can_replay


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in DECISIONS],
                                 error_messages={"required": "Choose Link these, Create new or Skip.",
                                                 "invalid_choice": "Choose Link these, Create new or Skip."})
    candidate_id = forms.CharField(max_length=120, required=False)


def _shown(request: HttpRequest) -> str:
    shown = request.GET.get("show", "open")
    return shown if shown in SHOWN else "open"


@tenant_view()
@require_safe
def possible_match_list(request: HttpRequest, integration_id: int | None = None) -> HttpResponse:
    """Open (or decided, or all) possible matches of the tenant, or of one integration."""
    integration = None
    if integration_id is not None:
        integration = get_scoped_or_404(
            scoped(Integration, request.tenant).select_related("crm_connection", "erp_connection"),
            request.tenant, pk=integration_id)
    shown = _shown(request)
    matches = review_selectors.possible_matches(tenant=request.tenant, integration=integration, shown=shown)
    views = [review_selectors.match_view(match) for match in matches[:LIST_LIMIT]]
    return render(request, "support/possible_matches.html", {
        "integration": integration, "views": views, "shown": shown, "more": matches.count() > LIST_LIMIT,
        "section": "possible-matches", "filters": [("open", "Waiting"), ("decided", "Decided"), ("all", "All")]})


@tenant_view()
@require_safe
def possible_match_detail(request: HttpRequest, match_id: int) -> HttpResponse:
    """One possible match: both records side by side, the evidence, and the decision buttons."""
    match = review_selectors.possible_match_get(tenant=request.tenant, match_id=match_id)
    return _detail(request, match)


def _detail(request: HttpRequest, match: PossibleMatch, *, error: str = "", status: int = 200) -> HttpResponse:
    view = review_selectors.match_view(match)
    template = "support/_possible_match.html" if request.htmx else "support/possible_match_detail.html"
    return render(request, template, {"view": view, "error": error, "section": "possible-matches",
                                      "integration": match.integration}, status=status)


def _list_url(request: HttpRequest, match: PossibleMatch) -> str:
    return reverse("integration-possible-matches", args=[request.tenant.slug, match.integration_id])


@tenant_view(allow=can_decide)
@require_POST
def possible_match_decide_view(request: HttpRequest, match_id: int) -> HttpResponse:
    """Link the waiting record to a candidate, create it anew, or skip it; refusals come back in words."""
    match = review_selectors.possible_match_get(tenant=request.tenant, match_id=match_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        error = " ".join(message for errors in form.errors.values() for message in errors)
        return _detail(request, match, error=error, status=400)
    try:
        match = possible_match_decide(match=match, decision=form.cleaned_data["decision"],
                                      candidate_id=form.cleaned_data["candidate_id"], user=request.user)
    except DecisionRefused as refusal:
        match.refresh_from_db()
        return _detail(request, match, error=str(refusal), status=400)
    match = review_selectors.possible_match_get(tenant=request.tenant, match_id=match.pk)
    if request.htmx:
        return _detail(request, match)
    messages.success(request, review_selectors.match_view(match).decided)
    return redirect(_list_url(request, match))
