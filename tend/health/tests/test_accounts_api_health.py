"""The accounts API carries each account's health (rank, score, profile, since when) in its
list, get, create and update answers, read for a whole page in one query."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.extensions import ApiField, add_api_field, api_fields
from tend.accounts.schemas import account_schemas
from tend.health.actions.profiles import create_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import AccountHealth, HealthProfile
from tend.health.tests.populations import add_accounts, classic

pytestmark = pytest.mark.django_db
URL = "/api/v1/accounts"
PAYING = {"all": [{"field": "status", "op": "eq", "value": "paying"}]}


@pytest.fixture
def scored(workspace, owner):
    accounts = add_accounts(
        workspace,
        [
            ("busy", "paying", 6, None),
            ("light", "paying", 2, None),
            ("trial", "trial", 0, None),
        ],
    )
    create_profile(owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()})
    score_workspace(workspace)
    return accounts


def by_external_id(body) -> dict:
    return {item["external_id"]: item for item in body["items"]}


def test_the_list_gives_each_accounts_rank_score_profile_and_since_when(owner, scored):
    response = owner.api.get(URL)
    assert response.status_code == 200, response.content
    items = by_external_id(response.json())
    paying = HealthProfile.objects.get(name="Paying")
    busy = items["busy"]["health"]
    assert (busy["rank"], busy["score"]) == ("good", 100.0)
    assert busy["profile"] == {"id": paying.pk, "name": "Paying"}
    stored = AccountHealth.objects.get(account=scored["busy"])
    assert datetime.datetime.fromisoformat(busy["since"]) == stored.rank_since
    assert (items["light"]["health"]["rank"], items["light"]["health"]["score"]) == (
        "average",
        60.0,
    )
    trial = items["trial"]["health"]
    assert (trial["rank"], trial["profile"]["name"]) == ("poor", "Classic usage rank")


def test_one_account_has_its_health_and_an_unscored_one_has_null(owner, workspace, scored):
    body = owner.api.get(f"{URL}/{scored['light'].pk}").json()
    assert body["health"]["rank"] == "average"
    assert body["health"]["profile"]["name"] == "Paying"
    made = owner.api.post(
        URL, {"external_id": "new", "name": "New"}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["health"] is None
    assert owner.api.get(f"{URL}/{made.json()['id']}").json()["health"] is None
    changed = owner.api.patch(
        f"{URL}/{scored['busy'].pk}", {"name": "Busy Co"}, content_type="application/json"
    )
    assert changed.json()["health"]["rank"] == "good"


def test_an_account_its_profile_cannot_rank_has_a_health_without_rank(owner, workspace, scored):
    AccountHealth.objects.filter(account=scored["light"]).update(rank=None, score=None)
    health = owner.api.get(f"{URL}/{scored['light'].pk}").json()["health"]
    assert (health["rank"], health["score"], health["profile"]["name"]) == (None, None, "Paying")


def test_a_viewer_reads_health_in_the_list_and_an_outsider_sees_none_of_ours(
    viewer, outsider, scored
):
    assert by_external_id(viewer.api.get(URL).json())["busy"]["health"]["rank"] == "good"
    assert outsider.api.get(URL).json()["items"] == []
    assert outsider.api.get(f"{URL}/{scored['busy'].pk}").status_code == 404


def test_a_page_of_many_accounts_costs_as_many_queries_as_a_page_of_one(
    owner, workspace, scored, django_assert_max_num_queries
):
    add_accounts(workspace, [(f"a{n}", "paying", n % 7, None) for n in range(60)])
    score_workspace(workspace)
    owner.api.get(URL)  # the token's last-used time is written once a minute, not per call
    with CaptureQueriesContext(connection) as one:
        owner.api.get(URL, {"limit": 1})
    with CaptureQueriesContext(connection) as many:
        response = owner.api.get(URL, {"limit": 1000})
    items = response.json()["items"]
    assert len(items) == 63 and all(item["health"] is not None for item in items)
    assert len(many) == len(one)
    health_queries = [q for q in many.captured_queries if "health_accounthealth" in q["sql"]]
    assert len(health_queries) == 1
    # The accounts, their tags, their assignments, their health.
    with django_assert_max_num_queries(4):
        owner.api.get(URL, {"limit": 1000})


def test_the_openapi_schema_documents_the_health_field(db, client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    health = schema["AccountOut"]["properties"]["health"]
    assert {"$ref": "#/components/schemas/AccountHealthOut"} in health["anyOf"]
    assert set(schema["AccountHealthOut"]["properties"]) == {"rank", "score", "profile", "since"}
    page = schema["AccountPage"]["properties"]["items"]
    assert page["items"] == {"$ref": "#/components/schemas/AccountOut"}


def test_a_field_registered_after_the_schema_was_built_is_refused(db):
    account_out, _page = account_schemas()  # built when the API's routes are declared
    assert "health" in account_out.model_fields
    # Registering the same key again (ready() may run twice) replaces it quietly…
    add_api_field(next(f for f in api_fields() if f.key == "health"))
    # …but a new field could no longer reach the schema the API already answers with.
    late = ApiField(key="late", schema=int, values=lambda workspace, ids: {})
    with pytest.raises(RuntimeError, match="AppConfig.ready"):
        add_api_field(late)
