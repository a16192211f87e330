from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0010_webhooks_while_paused'),
    ]

    operations = [
        migrations.AddField(
            model_name='connection',
            name='failing_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='connection',
            name='last_success_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
