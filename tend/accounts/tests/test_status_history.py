"""Every change of an account's status leaves a StatusChange row: the churn dates health's
back-test needs. Creating an account is not a change; an unchanged status writes nothing."""

import datetime

import numpy as np
import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.bulk import upsert_accounts
from tend.accounts.history import NOT_YET, StatusHistory
from tend.accounts.models import Account, StatusChange
from tend.lib.dates import day_number

pytestmark = pytest.mark.django_db


def history(account) -> list[tuple]:
    return list(
        StatusChange.objects.filter(account=account)
        .order_by("changed_at", "id")
        .values_list("from_status", "to_status", "source", "changed_by")
    )


def test_changing_the_status_of_one_account_records_who_did_it_and_from_where(owner):
    account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    assert history(account) == []
    update_account(owner.actor, account, {"status": "paying"})
    update_account(owner.actor, account, {"status": "churned"}, source="api")
    assert history(account) == [
        ("trial", "paying", "ui", owner.member.pk),
        ("paying", "churned", "api", owner.member.pk),
    ]
    change = StatusChange.objects.filter(account=account).first()
    account.refresh_from_db()
    assert change.changed_at == account.updated_at


def test_saving_an_account_without_changing_its_status_records_nothing(owner):
    account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    update_account(owner.actor, account, {"name": "Acme Inc.", "status": "trial"})
    assert not StatusChange.objects.exists()


def test_the_api_patch_records_the_change(owner):
    account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    response = owner.api.patch(
        f"/api/v1/accounts/{account.pk}",
        orjson.dumps({"status": "free"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert history(account) == [("trial", "free", "api", None)]


def test_the_edit_page_records_the_change(owner):
    account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    response = owner.browser.post(
        f"/accounts/{account.pk}/edit/",
        {"external_id": "acme", "name": "Acme", "status": "paying"},
    )
    assert response.status_code == 302, response.content[:500]
    assert history(account) == [("trial", "paying", "ui", owner.member.pk)]


def test_the_bulk_upsert_records_changed_statuses_only_in_one_insert(owner):
    upsert_accounts(
        owner.actor,
        [{"external_id": f"a{n}", "name": f"A{n}", "status": "paying"} for n in range(5)],
    )
    assert not StatusChange.objects.exists()  # new accounts: no change yet
    items = [
        {"external_id": "a0", "status": "churned"},
        {"external_id": "a1", "status": "churned"},
        {"external_id": "a2", "status": "paying"},  # unchanged
        {"external_id": "a3", "name": "A three"},  # status left out
        {"external_id": "a9", "name": "New", "status": "churned"},  # new
    ]
    table = connection.ops.quote_name(StatusChange._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        result = upsert_accounts(owner.actor, items, source="sync")
    assert [r["status"] for r in result.results] == [
        "updated",
        "updated",
        "unchanged",
        "updated",
        "created",
    ]
    inserts = [q for q in queries.captured_queries if q["sql"].startswith(f"INSERT INTO {table}")]
    assert len(inserts) == 1
    changes = StatusChange.objects.order_by("account__external_id")
    assert list(changes.values_list("account__external_id", "from_status", "to_status")) == [
        ("a0", "paying", "churned"),
        ("a1", "paying", "churned"),
    ]
    assert {c.source for c in changes} == {"sync"}
    assert {c.changed_by_id for c in changes} == {owner.member.pk}


def test_a_bulk_upsert_that_changes_no_status_runs_no_insert_of_history(owner):
    upsert_accounts(owner.actor, [{"external_id": "a", "name": "A", "status": "paying"}])
    table = connection.ops.quote_name(StatusChange._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        upsert_accounts(owner.actor, [{"external_id": "a", "name": "A renamed"}])
    assert not [q for q in queries.captured_queries if table in q["sql"]]


def test_the_profile_shows_when_a_churned_account_churned(owner):
    account = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    update_account(owner.actor, account, {"status": "churned"})
    StatusChange.objects.update(changed_at=timezone.make_aware(datetime.datetime(2025, 3, 4, 12)))
    page = owner.browser.get(f"/accounts/{account.pk}/").content.decode()
    assert "Churned on" in page and "Mar 4, 2025" in page
    update_account(owner.actor, account, {"status": "paying"})
    assert "Churned on" not in owner.browser.get(f"/accounts/{account.pk}/").content.decode()


def test_the_status_history_answers_the_status_on_any_day(owner, workspace):
    a = create_account(owner.actor, {"external_id": "a", "name": "A", "status": "trial"})
    b = create_account(owner.actor, {"external_id": "b", "name": "B", "status": "paying"})
    update_account(owner.actor, a, {"status": "paying"})
    update_account(owner.actor, a, {"status": "churned"})
    tz = timezone.get_current_timezone()

    def at(date):
        return timezone.make_aware(datetime.datetime.combine(date, datetime.time(10)), tz)

    jan1, feb1, mar1 = (
        datetime.date(2025, 1, 1),
        datetime.date(2025, 2, 1),
        datetime.date(2025, 3, 1),
    )
    Account.objects.filter(pk__in=[a.pk, b.pk]).update(created_at=at(jan1))
    first, second = StatusChange.objects.filter(account=a).order_by("id")
    StatusChange.objects.filter(pk=first.pk).update(changed_at=at(feb1))
    StatusChange.objects.filter(pk=second.pk).update(changed_at=at(mar1))
    statuses = StatusHistory(workspace)
    ids = np.array([a.pk, b.pk, 999_999])
    day = day_number
    assert statuses.on(ids, day(jan1) - 1).tolist() == [NOT_YET, NOT_YET, NOT_YET]
    assert statuses.on(ids, day(jan1)).tolist() == ["trial", "paying", NOT_YET]
    # A change's own day already has the new status (the status at the end of the day).
    assert statuses.on(ids, day(feb1)).tolist() == ["paying", "paying", NOT_YET]
    assert statuses.on(ids, day(mar1) - 1).tolist() == ["paying", "paying", NOT_YET]
    assert statuses.on(ids, day(mar1)).tolist() == ["churned", "paying", NOT_YET]
    # One day per account.
    assert statuses.on(ids[:2], [day(feb1) - 1, day(jan1)]).tolist() == ["trial", "paying"]
    assert statuses.churns(day(feb1), day(mar1)) == [(a.pk, day(mar1), at(mar1))]
    assert statuses.churns(day(jan1), day(mar1) - 1) == []
