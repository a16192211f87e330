from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from .tasks import schedules_ensure

        # The periodic tasks exist wherever the database does, without a manual step.
        post_migrate.connect(schedules_ensure, sender=self, dispatch_uid="synkro-schedules")
