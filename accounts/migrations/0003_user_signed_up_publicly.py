# The purge of never-confirmed accounts deletes public signups only (issue 12). Existing rows:
# the public signup is the only code path that sets signup_site and consent_at, so an account
# with either, that is neither staff, superuser nor in a group, came through it. Accounts made
# in the admin (editors, moderators) have neither and stay unmarked: never purged.
from django.db import migrations, models
from django.db.models import Q


def mark_public_signups(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(
        Q(signup_site__isnull=False) | Q(consent_at__isnull=False),
        is_staff=False,
        is_superuser=False,
        groups=None,
    ).update(signed_up_publicly=True)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_user_signup_site'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='signed_up_publicly',
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name='signed up on a public form'),
        ),
        migrations.RunPython(mark_public_signups, migrations.RunPython.noop),
    ]
