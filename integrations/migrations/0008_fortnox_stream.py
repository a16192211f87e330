from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0007_poll_overlap'),
    ]

    operations = [
    ]
