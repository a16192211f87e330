from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    """Webhook ingest without a task row or a shared counter row per notice: the event carries its notice count and
    a mark for the live workers' broker, found through a small partial index."""

    dependencies = [
        ('integrations', '0017_link_lookup_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='inboundevent',
            name='notices',
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='inboundevent',
            name='last_notice_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='inboundevent',
            name='awaits_worker',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddIndex(
            model_name='inboundevent',
            index=models.Index(condition=Q(awaits_worker=True), fields=['id'], name='event_awaits_worker'),
        ),
    ]
