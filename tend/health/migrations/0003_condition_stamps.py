# Stamps of writes to AccountHealth for the accounts' condition column cache (tend.accounts.stamps).

from django.db import migrations

from tend.accounts import stamps


class Migration(migrations.Migration):
    dependencies = [
        ('accounts', '0005_condition_stamps'),
        ('health', '0002_health_tables_without_db_constraints'),
    ]

    operations = [
        migrations.RunPython(*stamps.install('health_accounthealth', 'account_id', stamps.HEALTH)),
    ]
