from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0006_poll_baseline'),
    ]

    operations = [
    ]
