import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0007_poll_overlap'),
        ('tenants', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='StreamOffset',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('topic', models.CharField(max_length=40)),
                ('offset', models.CharField(max_length=200)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                 related_name='stream_offsets', to='integrations.connection')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                             to='tenants.tenant')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('connection', 'topic'),
                                                        name='one_stream_offset_per_topic')],
            },
        ),
    ]
