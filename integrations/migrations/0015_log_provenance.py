import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0014_link_pending"),
        ("mappings", "0004_config_snapshots"),
    ]

    operations = [
        migrations.AddField(
            model_name="synclogentry",
            name="config_version",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="mappings.configchange"),
        ),
    ]
