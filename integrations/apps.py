from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from .tasks import schedules_ensure

        # The periodic tasks exist wherever the database does, without a manual step.
        post_migrate.connect(schedules_ensure, sender=self, dispatch_uid="synkro-schedules")
        # A later migration that rebuilds a watched table on SQLite drops its triggers: put them back every time.
        from .settings_triggers import settings_triggers_on_migrate

        post_migrate.connect(settings_triggers_on_migrate, sender=self, dispatch_uid="synkro-settings-triggers")
        # Every worker process keeps its leases alive and takes up what dead workers left, from its first moment.
        from django_q.signals import post_spawn

        post_spawn.connect(_keeper_start, dispatch_uid="synkro-keeper")


def _keeper_start(sender, **kwargs) -> None:
    from .keeper import keeper_ensure

    keeper_ensure()
