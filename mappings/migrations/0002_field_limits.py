from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mappings', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='fieldmapping',
            name='overflow',
            field=models.CharField(
                choices=[('shorten', 'Shorten at a word boundary (and log it)'),
                         ('refuse', 'Refuse: the record waits, nothing written')],
                default='shorten', help_text='What happens to a value longer than the receiving field holds',
                max_length=10),
        ),
    ]
