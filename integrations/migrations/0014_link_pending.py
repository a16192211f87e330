from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0013_hooks_while_paused'),
    ]

    operations = [
        migrations.AddField(
            model_name='synclink',
            name='pending',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
