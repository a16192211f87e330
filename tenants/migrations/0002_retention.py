import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="retention_days",
            field=models.PositiveSmallIntegerField(
                default=90,
                help_text="Keep sync history this many days (7–3650)",
                validators=[django.core.validators.MinValueValidator(7),
                            django.core.validators.MaxValueValidator(3650)],
            ),
        ),
        migrations.AddField(
            model_name="tenant",
            name="history_cleaned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="tenant",
            name="history_removed",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddConstraint(
            model_name="tenant",
            constraint=models.CheckConstraint(
                condition=models.Q(("retention_days__gte", 7), ("retention_days__lte", 3650)),
                name="tenant_retention_days_in_range",
            ),
        ),
    ]
