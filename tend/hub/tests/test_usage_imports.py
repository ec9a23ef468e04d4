"""Importing usage day totals and custom metric values: suggestions from headers, keyed rows
whose value replaces the imported day total (a file imported twice counts once), rejected
rows with their reasons, dry runs that write nothing, and the metrics that follow."""

import datetime

import pytest
from django_scopes import scopes_disabled

from tend.accounts.models import Account, EndUser
from tend.hub import actions
from tend.hub.models import ImportStatus, RejectedRow
from tend.hub.running import preview
from tend.hub.tests.conftest import csv_bytes
from tend.lib.dates import day_number, today, zone
from tend.usage.models import (
    AccountActivityDay,
    AccountDay,
    AccountUsage,
    ImportedDay,
    Metric,
    MetricLatest,
    MetricValue,
    UserDay,
    UserUsage,
)
from tend.usage.rollups import roll_up

pytestmark = pytest.mark.django_db


def iso(days_ago: int) -> str:
    return (datetime.date.today() - datetime.timedelta(days=days_ago)).isoformat()


@pytest.fixture
def people(workspace):
    acme = Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    globex = Account.objects.create(workspace=workspace, external_id="globex", name="Globex")
    EndUser.objects.create(
        workspace=workspace, account=acme, external_id="u-1", email="u1@acme.test"
    )
    EndUser.objects.create(
        workspace=workspace, account=globex, external_id="g-1", email="g1@globex.test"
    )
    return acme, globex


def usage_file() -> str:
    return (
        "\n".join(
            [
                "Date,Account ID,User ID,Event,Count,Duration",
                f"{iso(1)},acme,u-1,login,3,60",
                f"{iso(1)},acme,u-1,export,2,",
                f"{iso(2)},acme,,login,5,30.5",
                f"{iso(1)},globex,g-1,login,7,0",
                f"{iso(1)},nobody,,login,1,",  # unknown account
                f"31/02/{iso(1)[:4]},acme,,login,1,",  # bad date
                f"{iso(1)},acme,,login,many,",  # bad number
                f"{iso(3)},acme,g-1,login,1,",  # an end user of another account
                f"{iso(4)},globex,,report,1,",  # duplicate key …
                f"{iso(4)}T00:00:00,globex,,report,2,",  # … the same day written otherwise
                f"{iso(1)},acme,ghost,login,1,",  # unknown end user
            ]
        )
        + "\n"
    )


def reasons(imp):
    return dict(RejectedRow.objects.filter(import_run=imp).values_list("row_number", "reason"))


def totals(workspace):
    return {
        "account_days": sorted(
            AccountDay.objects.filter(workspace=workspace).values_list(
                "account__external_id", "day", "events", "seconds"
            )
        ),
        "activity_days": sorted(
            AccountActivityDay.objects.filter(workspace=workspace).values_list(
                "account__external_id", "day", "activity", "events"
            )
        ),
        "user_days": sorted(
            UserDay.objects.filter(workspace=workspace).values_list(
                "end_user__external_id", "day", "events"
            )
        ),
    }


def test_headers_suggest_the_usage_fields(owner, upload):
    imp = upload(owner, csv_bytes(usage_file()), name="usage.csv", object="usage")
    assert imp.mapping == {
        "Date": "date",
        "Account ID": "account_external_id",
        "User ID": "user_external_id",
        "Event": "activity",
        "Count": "count",
        "Duration": "seconds",
    }


def test_usage_rows_become_day_totals_with_each_rejected_row_and_reason(
    owner, people, upload, run_now
):
    imp = run_now(owner, upload(owner, csv_bytes(usage_file()), name="usage.csv", object="usage"))
    assert imp.status == ImportStatus.PARTIAL
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (4, 0, 0, 7)
    found = reasons(imp)
    assert set(found) == {6, 7, 8, 9, 10, 11, 12}
    assert found[6] == "Account ID: no account with external id 'nobody'"
    assert "Date:" in found[7] and "is not a date" in found[7]
    assert found[8] == "Count: 'many' is not a whole number of events (0 or more)"
    assert found[9] == "User ID: end user 'g-1' belongs to account 'globex', not 'acme'"
    assert found[10].startswith("duplicate key") and "11" in found[10]
    assert found[11].startswith("duplicate key") and "10" in found[11]
    assert found[12] == "User ID: no end user with external id 'ghost'"

    d1, d2 = day_number(datetime.date.today()) - 1, day_number(datetime.date.today()) - 2
    assert totals(owner.workspace) == {
        "account_days": [("acme", d2, 5, 30.5), ("acme", d1, 5, 60.0), ("globex", d1, 7, 0.0)],
        "activity_days": [
            ("acme", d2, "login", 5),
            ("acme", d1, "export", 2),
            ("acme", d1, "login", 3),
            ("globex", d1, "login", 7),
        ],
        "user_days": [("g-1", d1, 7), ("u-1", d1, 5)],
    }
    assert ImportedDay.objects.filter(workspace=owner.workspace).count() == 4
    # The rollup job (requested by the import) turns the days into each account's metrics.
    with scopes_disabled():
        roll_up()
    acme = AccountUsage.objects.get(account__external_id="acme")
    assert (acme.events_7d, acme.active_users_7d, acme.seconds_7d) == (10, 1, 90.5)
    assert UserUsage.objects.get(end_user__external_id="u-1").events_7d == 5
    assert acme.last_seen_at.date() == datetime.date.today() - datetime.timedelta(days=1)


def test_importing_the_same_file_twice_counts_it_once_and_a_corrected_file_replaces_the_totals(
    owner, people, upload, run_now
):
    run_now(owner, upload(owner, csv_bytes(usage_file()), name="usage.csv", object="usage"))
    first = totals(owner.workspace)
    again = run_now(owner, upload(owner, csv_bytes(usage_file()), name="usage.csv", object="usage"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert totals(owner.workspace) == first

    corrected = (
        f"Date,Account ID,User ID,Event,Count\n{iso(1)},acme,u-1,login,1\n{iso(2)},acme,,login,9\n"
    )
    fixed = run_now(owner, upload(owner, csv_bytes(corrected), name="usage.csv", object="usage"))
    assert (fixed.created, fixed.updated, fixed.unchanged, fixed.rejected) == (0, 2, 0, 0)
    d1 = day_number(datetime.date.today()) - 1
    days = {(a, d): e for a, d, e, _ in totals(owner.workspace)["account_days"]}
    assert days[("acme", d1)] == 1 + 2  # login lowered from 3 to 1, export 2 kept
    assert days[("acme", d1 - 1)] == 9
    assert dict(((u, d), e) for u, d, e in totals(owner.workspace)["user_days"])[("u-1", d1)] == 3
    with scopes_disabled():
        roll_up()
    assert AccountUsage.objects.get(account__external_id="acme").events_7d == 12


def test_imported_totals_add_to_counted_events(owner, people, upload, run_now):
    acme = people[0]
    d1 = day_number(datetime.date.today()) - 1
    AccountDay.objects.create(
        workspace=owner.workspace, account=acme, day=d1, events=100, seconds=10
    )
    run_now(
        owner,
        upload(
            owner,
            csv_bytes(f"date,account,activity,count\n{iso(1)},acme,login,4\n"),
            name="u.csv",
            object="usage",
        ),
    )
    run_now(
        owner,
        upload(
            owner,
            csv_bytes(f"date,account,activity,count\n{iso(1)},acme,login,1\n"),
            name="u.csv",
            object="usage",
        ),
    )
    assert AccountDay.objects.get(account=acme, day=d1).events == 101


def test_a_dry_run_counts_and_writes_nothing(owner, people, upload, run_now):
    dry = run_now(
        owner,
        upload(owner, csv_bytes(usage_file()), name="usage.csv", object="usage"),
        dry_run=True,
    )
    assert (dry.created, dry.updated, dry.unchanged, dry.rejected) == (4, 0, 0, 7)
    assert len(reasons(dry)) == 7
    assert not ImportedDay.objects.exists()
    assert not AccountDay.objects.exists() and not UserDay.objects.exists()
    assert not AccountUsage.objects.exists()


def test_preview_shows_the_rows_as_stored(owner, people, upload):
    imp = upload(owner, csv_bytes(usage_file()), name="usage.csv", object="usage")
    actions.set_mapping(owner.actor, imp, {h: f for h, f in imp.mapping.items() if f})
    rows = preview(imp)
    assert [r["status"] for r in rows[:6]] == [
        "created",
        "created",
        "created",
        "created",
        "rejected",
        "rejected",
    ]
    assert rows[0]["values"][0] == iso(1)
    assert not ImportedDay.objects.exists()


def test_a_usage_mapping_needs_its_required_fields(owner, upload):
    imp = upload(
        owner, csv_bytes("day,account,what\n2026-01-01,acme,login\n"), name="u.csv", object="usage"
    )
    with pytest.raises(actions.InvalidInput) as caught:
        actions.set_mapping(
            owner.actor, imp, {"day": "date", "account": "account_external_id", "what": "activity"}
        )
    assert caught.value.field == "mapping" and "Events (count) (count)" in caught.value.message
    with pytest.raises(actions.InvalidInput) as caught:
        actions.set_mapping(
            owner.actor, imp, {"day": "date", "account": "account_external_id", "what": "new.what"}
        )
    assert "no attributes" in caught.value.message


METRICS = """account,metric,date,value
acme,nps,{d1},42
acme,nps,{d2},40.5
globex,seats_used,{d1},12
nobody,nps,{d1},1
acme,nps,someday,3
acme,nps,{d3},lots
globex,nps,{d1},1
globex,nps,{d1},2
"""


def test_metric_values_are_stored_with_the_latest_value_and_rejected_rows_named(
    owner, people, upload, run_now
):
    text = METRICS.format(d1=iso(1), d2=iso(2), d3=iso(3))
    imp = upload(owner, csv_bytes(text), name="metrics.csv", object="metric")
    assert imp.mapping == {
        "account": "account_external_id",
        "metric": "metric",
        "date": "date",
        "value": "value",
    }
    dry = run_now(owner, imp, dry_run=True)
    assert (dry.created, dry.rejected) == (3, 5)
    assert not MetricValue.objects.exists() and not Metric.objects.exists()
    real = actions.start_import(owner.actor, dry, dry_run=False)
    from tend.hub.running import run_import

    run_import(real.pk)
    real.refresh_from_db()
    assert (real.created, real.updated, real.unchanged, real.rejected) == (3, 0, 0, 5)
    found = reasons(real)
    assert found[5] == "account: no account with external id 'nobody'"
    assert found[6].startswith("date: 'someday' is not a date")
    assert found[7] == "value: 'lots' is not a number"
    assert found[8].startswith("duplicate key") and found[9].startswith("duplicate key")
    assert Metric.objects.get(key="seats_used").label == "Seats used"
    nps = Metric.objects.get(key="nps")
    latest = MetricLatest.objects.get(metric=nps, account__external_id="acme")
    assert latest.value == 42 and latest.day == today(zone(owner.workspace.time_zone)) - 1

    changed = text.replace(",42\n", ",43\n")
    again = run_now(owner, upload(owner, csv_bytes(changed), name="metrics.csv", object="metric"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert MetricValue.objects.filter(metric=nps).count() == 2
    latest.refresh_from_db()
    assert latest.value == 43


def test_a_saved_usage_mapping_maps_the_next_file_through_the_api(owner, people, upload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = f"ds,acct,feature,n\n{iso(1)},acme,login,3\n"
    imp = upload(owner, csv_bytes(text), name="u.csv", object="usage")
    actions.set_mapping(
        owner.actor,
        imp,
        {"ds": "date", "acct": "account_external_id", "feature": "activity", "n": "count"},
        save_as="Warehouse export",
    )
    response = owner.api.post(
        "/api/v1/imports",
        {
            "file": SimpleUploadedFile("u.csv", csv_bytes(text)),
            "object": "usage",
            "mapping_name": "Warehouse export",
        },
    )
    assert response.status_code == 202, response.content
    assert response.json()["mapping"] == {
        "ds": "date",
        "acct": "account_external_id",
        "feature": "activity",
        "n": "count",
    }
    # A saved mapping is per object: the same name means nothing to a metric import.
    response = owner.api.post(
        "/api/v1/imports",
        {
            "file": SimpleUploadedFile("u.csv", csv_bytes(text)),
            "object": "metric",
            "mapping_name": "Warehouse export",
        },
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "mapping_name"


def test_an_xlsx_export_with_real_dates_and_numbers_imports(owner, people, upload, run_now):
    from tend.hub.tests.test_reading import xlsx

    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    content = xlsx(
        {
            "Usage": [
                ["Date", "Account", "Activity", "Count", "Seconds"],
                [yesterday, "acme", "login", 4.0, 12.5],
                [datetime.datetime.combine(yesterday, datetime.time(0)), "acme", "export", 2, None],
            ]
        }
    )
    imp = run_now(owner, upload(owner, content, name="usage.xlsx", object="usage"))
    assert (imp.created, imp.rejected) == (2, 0), list(
        RejectedRow.objects.values_list("reason", flat=True)
    )
    day = AccountDay.objects.get(account__external_id="acme")
    assert (day.day, day.events, day.seconds) == (day_number(yesterday), 6, 12.5)
