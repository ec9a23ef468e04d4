"""The accounts list's export holds the columns health and usage add to the list, as plain
typed values: the rank's name, the score as the list shows it, last seen as a date-time in
the workspace's zone, counts as numbers; empty for an account with no health or usage."""

import datetime
import io

from openpyxl import load_workbook

from tend.accounts.models import Account
from tend.health.models import AccountHealth
from tend.lib.dates import to_ms
from tend.usage.models import AccountUsage


def test_the_list_export_holds_health_and_usage_columns_as_typed_values(owner, workspace):
    workspace.time_zone = "America/New_York"
    workspace.save()
    seen = datetime.datetime(2026, 3, 2, 15, 30, tzinfo=datetime.UTC)
    acme = Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    Account.objects.create(workspace=workspace, external_id="bare", name="Bare")
    AccountHealth.objects.create(account=acme, workspace=workspace, rank="good", score=71.46)
    AccountUsage.objects.create(
        account=acme,
        workspace=workspace,
        last_seen_ms=to_ms(seen),
        active_users_14d=12,
        visit_frequency="weekly",
        engagement=64,
    )

    response = owner.browser.get("/accounts/export/", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [c.value for c in sheet[1]]
    rows = {
        row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(values_only=True)
    }

    acme_row = rows["Acme"]
    assert acme_row["Health"] == "Good"
    assert acme_row["Score"] == 71.5  # one decimal, as the list shows it
    assert acme_row["Last seen"] == datetime.datetime(2026, 3, 2, 10, 30)  # New York time
    assert (acme_row["Active users"], acme_row["Frequency"], acme_row["Engagement"]) == (
        12,
        "Weekly",
        64,
    )
    bare = rows["Bare"]
    assert [bare[k] for k in ("Health", "Score", "Last seen", "Active users", "Engagement")] == [
        None
    ] * 5
