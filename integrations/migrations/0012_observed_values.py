import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0001_initial'),
        ('integrations', '0011_connection_status'),
    ]

    operations = [
        migrations.CreateModel(
            name='ObservedValues',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('entity', models.CharField(max_length=30)),
                ('field', models.CharField(max_length=120)),
                ('values', models.JSONField(blank=True, default=list)),
                ('read_at', models.DateTimeField()),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                 related_name='observed_values', to='integrations.connection')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                             to='tenants.tenant')),
            ],
            options={
                'verbose_name': 'observed values',
                'verbose_name_plural': 'observed values',
                'constraints': [models.UniqueConstraint(fields=('connection', 'entity', 'field'),
                                                        name='one_observed_list_per_field')],
            },
        ),
    ]
