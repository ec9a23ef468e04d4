# Stamps of writes to AccountUsage for the accounts' condition column cache (tend.accounts.stamps).

from django.db import migrations

from tend.accounts import stamps


class Migration(migrations.Migration):
    dependencies = [
        ('accounts', '0005_condition_stamps'),
        ('usage', '0004_metric_latest_and_user_day_index'),
    ]

    operations = [
        migrations.RunPython(*stamps.install('usage_accountusage', 'account_id', stamps.USAGE)),
    ]
