from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0012_observed_values'),
    ]

    operations = [
        migrations.AddField(
            model_name='integration',
            name='hooks_owed',
            field=models.CharField(blank=True, default='', max_length=10),
        ),
        migrations.AddField(
            model_name='integration',
            name='hooks_error',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='synclogentry',
            name='replayable',
            field=models.BooleanField(default=False),
        ),
    ]
