"""The search API reads usage like any other field, through the specs usage registers:
``usage.<metric>`` and ``metrics.<key>`` on accounts, ``usage.<metric>`` on end users —
values, sorts with missing values last, and pages by cursor."""

import datetime

import orjson
import pytest

from tend.accounts.models import Account, EndUser
from tend.lib.dates import today as local_today
from tend.lib.dates import zone
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import Intake, MetricFact
from tend.usage.models import AccountUsage, Source, UserUsage

pytestmark = pytest.mark.django_db
LAST_SEEN = datetime.datetime(2026, 11, 20, 9, 30, tzinfo=datetime.UTC)


def search(client, url, body):
    response = client.post(url, orjson.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


@pytest.fixture
def accounts(workspace):
    made = [
        Account.objects.create(workspace=workspace, external_id=key, name=key.title())
        for key in ("acme", "globex", "quiet")
    ]
    AccountUsage.objects.create(
        account=made[0], workspace=workspace, events_30d=120, modules_30d=["Reports"],
        last_seen_ms=int(LAST_SEEN.timestamp() * 1000),
    )  # fmt: skip
    AccountUsage.objects.create(account=made[1], workspace=workspace, events_30d=7)
    today = local_today(zone(workspace.time_zone))
    values = [("acme", today - 3, 10.0), ("acme", today - 1, 30.0), ("quiet", today, 5.0)]
    facts = [
        MetricFact(index, account, "nps", value, day)
        for index, (account, day, value) in enumerate(values)
    ]
    ingest(workspace, Intake(source=Source.API, received=len(facts), metrics=facts))
    return made


def test_usage_and_custom_metric_fields_come_back_and_sort(owner, accounts):
    data = search(
        owner.api,
        "/api/v1/accounts/search",
        {"fields": ["usage.events_30d", "usage.last_seen", "usage.modules", "metrics.nps"],
         "sort": ["-usage.events_30d"]},
    )  # fmt: skip
    assert [(i["external_id"], i["usage.events_30d"], i["metrics.nps"]) for i in data["items"]] == [
        ("acme", 120, 30.0),
        ("globex", 7, None),
        ("quiet", None, 5.0),
    ]
    assert data["items"][0]["usage.last_seen"] == "2026-11-20T09:30:00+00:00"
    assert data["items"][0]["usage.modules"] == ["Reports"]
    assert data["items"][2]["usage.modules"] is None  # no usage received yet
    by_metric = search(owner.api, "/api/v1/accounts/search", {"sort": ["metrics.nps"], "limit": 1})
    names = [by_metric["items"][0]["external_id"]]
    while by_metric["next_cursor"]:
        by_metric = search(
            owner.api, "/api/v1/accounts/search",
            {"sort": ["metrics.nps"], "limit": 1, "cursor": by_metric["next_cursor"]},
        )  # fmt: skip
        names += [item["external_id"] for item in by_metric["items"]]
    assert names == ["quiet", "acme", "globex"]


def test_a_condition_on_usage_filters_the_search(owner, accounts):
    data = search(
        owner.api,
        "/api/v1/accounts/search",
        {"where": {"field": "usage.events_30d", "op": "gt", "value": 10}},
    )
    assert [item["external_id"] for item in data["items"]] == ["acme"]


def test_end_users_are_searched_by_their_own_usage(owner, accounts):
    ann = EndUser.objects.create(workspace=owner.workspace, external_id="ann", account=accounts[0])
    EndUser.objects.create(workspace=owner.workspace, external_id="bo", account=accounts[0])
    UserUsage.objects.create(
        end_user=ann, workspace=owner.workspace, events_7d=12, visit_frequency="weekly"
    )
    data = search(
        owner.api,
        "/api/v1/users/search",
        {"where": {"field": "usage.events_7d", "op": "gte", "value": 1},
         "fields": ["usage.events_7d", "usage.visit_frequency", "account"]},
    )  # fmt: skip
    assert data["items"] == [
        {"id": ann.pk, "external_id": "ann", "email": "", "name": "", "usage.events_7d": 12,
         "usage.visit_frequency": "weekly", "account": "acme"}
    ]  # fmt: skip
