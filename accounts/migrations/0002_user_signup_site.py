# The FK to wagtailcore.Site lives in its own migration: wagtailcore depends on the user
# model (AUTH_USER_MODEL), so the user table must exist before Wagtail's, and this after.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="signup_site",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="wagtailcore.site",
                verbose_name="signed up on",
            ),
        ),
    ]
