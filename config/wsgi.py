"""WSGI entry point. With SANDBOX_ENABLED the vendor simulators answer under /sandbox/<system>/."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402

if settings.SANDBOX_ENABLED:
    from integrations.systems.sandboxes import mount_sandboxes

    application = mount_sandboxes(application)
