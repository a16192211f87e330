from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0015_log_provenance"),
    ]

    operations = []
