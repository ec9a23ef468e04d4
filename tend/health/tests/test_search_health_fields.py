"""The search API reads health like any other field, through the specs health registers:
``health.rank``, ``health.score`` and a weighted profile's dimensions — values, a condition,
and sorts with unscored accounts last."""

import orjson
import pytest

from tend.accounts.models import Account
from tend.health.actions.profiles import create_profile
from tend.health.models import AccountHealth

pytestmark = pytest.mark.django_db
WEIGHTED = {
    "kind": "weighted",
    "dimensions": [
        {"key": "adoption", "label": "Adoption", "weight": 100,
         "metrics": [{"source": "usage.active_days_14d", "weight": 100, "good": 6, "poor": 2}]},
    ],
}  # fmt: skip


def search(client, body):
    response = client.post(
        "/api/v1/accounts/search", orjson.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


@pytest.fixture
def scored(owner):
    workspace = owner.workspace
    create_profile(owner.actor, {"name": "Weighted", "definition": WEIGHTED})
    made = {}
    for key, rank, score, adoption in [
        ("acme", "good", 81.5, 90.0),
        ("globex", "poor", 12.0, 10.0),
        ("initech", "average", 55.0, None),
        ("unscored", None, None, None),
    ]:
        made[key] = Account.objects.create(workspace=workspace, external_id=key, name=key.title())
        if rank:
            AccountHealth.objects.create(
                account=made[key], workspace=workspace, rank=rank, score=score,
                dimensions={"adoption": adoption} if adoption is not None else {},
            )  # fmt: skip
    return made


def test_health_fields_come_back_and_sort_with_unscored_accounts_last(owner, scored):
    data = search(
        owner.api,
        {"fields": ["health.rank", "health.score", "health.adoption"], "sort": ["-health.score"]},
    )
    assert [
        (i["external_id"], i["health.rank"], i["health.score"], i["health.adoption"])
        for i in data["items"]
    ] == [
        ("acme", "good", 81.5, 90.0),
        ("initech", "average", 55.0, None),
        ("globex", "poor", 12.0, 10.0),
        ("unscored", None, None, None),
    ]
    by_dimension = search(owner.api, {"sort": ["health.adoption"]})
    assert [i["external_id"] for i in by_dimension["items"]] == [
        "globex",
        "acme",
        "initech",
        "unscored",
    ]


def test_a_condition_on_health_filters_the_search(owner, scored):
    data = search(
        owner.api,
        {"where": {"any": [{"field": "health.rank", "op": "eq", "value": "poor"},
                           {"field": "health.rank", "op": "is_not_set"}]}},
    )  # fmt: skip
    assert [i["external_id"] for i in data["items"]] == ["globex", "unscored"]
