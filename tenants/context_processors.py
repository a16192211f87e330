from tenants.access import tenants_for_user


def current_tenant(request):
    """The tenant being viewed and the user's access, for the base template's header."""
    user = getattr(request, "user", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "access": getattr(request, "access", None),
        "has_several_tenants": bool(user and user.is_authenticated and tenants_for_user(user)[:2].count() > 1),
    }
