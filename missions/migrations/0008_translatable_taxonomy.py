"""Domains and activities are translatable snippets: one row per language, the slug unique per
language; missions choose among the default language's rows."""

import django.db.models.deletion
import missions.models
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("missions", "0007_taxonomy_locale"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AlterField(
            model_name="activity",
            name="locale",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="wagtailcore.locale",
                verbose_name="locale",
            ),
        ),
        migrations.AlterField(
            model_name="activity",
            name="slug",
            field=models.SlugField(),
        ),
        migrations.AlterField(
            model_name="activity",
            name="translation_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name="domain",
            name="locale",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="wagtailcore.locale",
                verbose_name="locale",
            ),
        ),
        migrations.AlterField(
            model_name="domain",
            name="slug",
            field=models.SlugField(),
        ),
        migrations.AlterField(
            model_name="domain",
            name="translation_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name="mission",
            name="activity",
            field=models.ForeignKey(
                blank=True,
                limit_choices_to=missions.models.in_source_language,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="missions.activity",
                verbose_name="activity",
            ),
        ),
        migrations.AlterField(
            model_name="mission",
            name="domain",
            field=models.ForeignKey(
                blank=True,
                limit_choices_to=missions.models.in_source_language,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="missions.domain",
                verbose_name="domain",
            ),
        ),
        migrations.AlterUniqueTogether(
            name="activity",
            unique_together={("translation_key", "locale")},
        ),
        migrations.AlterUniqueTogether(
            name="domain",
            unique_together={("translation_key", "locale")},
        ),
        migrations.AddConstraint(
            model_name="activity",
            constraint=models.UniqueConstraint(
                fields=("slug", "locale"), name="activity_slug_per_language"
            ),
        ),
        migrations.AddConstraint(
            model_name="domain",
            constraint=models.UniqueConstraint(
                fields=("slug", "locale"), name="domain_slug_per_language"
            ),
        ),
    ]
