from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0008_fortnox_stream'),
    ]

    operations = [
    ]
