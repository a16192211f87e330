from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0006_poll_baseline'),
    ]

    operations = [
        migrations.AddField(
            model_name='pollcursor',
            name='recent_ids',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='synclink',
            name='crm_list_proof',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='synclink',
            name='erp_list_proof',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
    ]
