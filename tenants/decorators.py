"""View decorators that resolve the tenant from the URL before anything else runs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .access import TenantAccess, tenant_access_get


def tenant_view(*, allow: Callable[[TenantAccess], bool] | None = None):
    """Resolve ``tenant_slug`` into ``request.tenant`` and ``request.access``.

    Non-members get 404 (the tenant's existence is not confirmed); members whose role does not
    allow the view get 403.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, tenant_slug: str, *args, **kwargs) -> HttpResponse:
            access = tenant_access_get(user=request.user, slug=tenant_slug)
            request.tenant = access.tenant  # type: ignore[attr-defined]
            request.access = access  # type: ignore[attr-defined]
            if allow is not None and not allow(access):
                raise PermissionDenied("Your role in this tenant does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.tenant_scoped = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


def can_configure(access: TenantAccess) -> bool:
    return access.can_configure
