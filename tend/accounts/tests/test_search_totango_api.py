"""POST /api/v1/search/accounts: Totango's account search, as Totango's clients send it (the
query as a JSON string in a form field or a JSON body, the token in ``app-token``), answered
in Totango's envelope."""

import datetime

import orjson
import pytest
from django.test import Client

from tend.accounts.models import (
    Account,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    AttributeType,
)

URL = "/api/v1/search/accounts"
pytestmark = pytest.mark.django_db


def form_post(token, query, **extra):
    client = Client(HTTP_APP_TOKEN=token)
    text = query if isinstance(query, str) else orjson.dumps(query).decode()
    response = client.post(URL, {"query": text, **extra})
    return response, orjson.loads(response.content)


def json_post(token, query):
    # What tap-totango sends: a JSON body whose query is itself a JSON string.
    client = Client(HTTP_APP_TOKEN=token)
    body = {"query": orjson.dumps(query).decode(), "account_id": None}
    response = client.post(URL, orjson.dumps(body), content_type="application/json")
    return response, orjson.loads(response.content)


@pytest.fixture
def accounts(workspace, owner):
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="account_type",
        label="Account Type",
        type=AttributeType.ENUM,
        options=["Client", "Partner"],
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="contract_start_date",
        label="Contract Start Date",
        type=AttributeType.DATE,
    )
    role, _ = AssignmentRole.objects.get_or_create(
        workspace=workspace, key="success_manager", defaults={"name": "Success Manager"}
    )
    made = {}
    for external_id, name, status, kind, created in [
        (
            "acme",
            "Acme",
            "paying",
            "Client",
            datetime.datetime(2025, 1, 10, 12, tzinfo=datetime.UTC),
        ),
        (
            "globex",
            "Globex",
            "paying",
            "Partner",
            datetime.datetime(2025, 2, 10, 12, tzinfo=datetime.UTC),
        ),
        (
            "initech",
            "Initech",
            "trial",
            "Client",
            datetime.datetime(2025, 3, 10, 12, tzinfo=datetime.UTC),
        ),
        (
            "umbrella",
            "Umbrella",
            "churned",
            None,
            datetime.datetime(2025, 4, 10, 12, tzinfo=datetime.UTC),
        ),
    ]:
        attributes = {"account_type": kind, "contract_start_date": "2025-01-01"} if kind else {}
        made[external_id] = Account.objects.create(
            workspace=workspace,
            external_id=external_id,
            name=name,
            status=status,
            attributes=attributes,
            created_at=created,
        )
    Assignment.objects.create(
        workspace=workspace, account=made["acme"], role=role, member=owner.member
    )
    return made


def hits(data):
    return data["response"]["accounts"]["hits"]


def test_it_answers_a_form_query_in_totangos_envelope(owner, accounts):
    response, data = form_post(
        owner.token,
        {
            "terms": [{"type": "string", "term": "status_group", "in_list": ["paying"]}],
            "fields": [
                {
                    "type": "string_attribute",
                    "attribute": "Success Manager",
                    "field_display_name": "CSM",
                },
                {
                    "type": "simple_date_attribute",
                    "attribute": "Contract Start Date",
                    "field_display_name": "Start",
                },
                {"type": "string", "term": "identifier", "field_display_name": "Id"},
            ],
            "count": 1000,
            "offset": 0,
            "scope": "all",
        },
    )
    assert response.status_code == 200, data
    assert data["status"] == "success"
    assert data["response"]["accounts"]["total_hits"] == 2
    assert hits(data) == [
        {
            "name": "acme",
            "display_name": "Acme",
            "last_activity_time": None,
            "selected_fields": ["owner@acme.test", 1735689600000, "acme"],
        },
        {
            "name": "globex",
            "display_name": "Globex",
            "last_activity_time": None,
            "selected_fields": [None, 1735689600000, "globex"],
        },
    ]


def test_it_takes_the_query_as_a_json_string_inside_a_json_body(owner, accounts):
    response, data = json_post(
        owner.token,
        {
            "terms": [
                {"type": "string_attribute", "attribute": "Account Type", "query_term_id": "account_type",
                 "in_list": ["client"]},
            ],
            "fields": [],
            "sort_by": "display_name",
            "sort_order": "DESC",
        },
    )  # fmt: skip
    assert response.status_code == 200, data
    assert [h["display_name"] for h in hits(data)] == ["Initech", "Acme"]
    assert all(h["selected_fields"] == [] for h in hits(data))


def test_or_terms_and_date_bounds_translate_to_a_condition(owner, accounts):
    february = int(datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC).timestamp() * 1000)
    _r, data = form_post(
        owner.token,
        {
            "terms": [
                {"type": "or", "or": [
                    {"type": "string", "term": "status_group", "in_list": ["Trial"]},
                    {"type": "string", "term": "status_group", "in_list": ["churned"]},
                ]},
                {"type": "date", "term": "create_date", "gte": february},
            ],
            "fields": [{"type": "string", "term": "status_group"}],
        },
    )  # fmt: skip
    assert [(h["name"], h["selected_fields"]) for h in hits(data)] == [
        ("initech", ["trial"]),
        ("umbrella", ["churned"]),
    ]


def test_count_and_offset_page_with_the_total_on_every_page(owner, workspace):
    Account.objects.bulk_create(
        Account(workspace=workspace, external_id=f"a{i:03d}", name=f"Company {i:03d}")
        for i in range(25)
    )
    seen = []
    for offset in (0, 10, 20, 30):
        _r, data = form_post(
            owner.token, {"terms": [], "fields": [], "count": 10, "offset": offset}
        )
        assert data["response"]["accounts"]["total_hits"] == 25
        seen += [h["name"] for h in hits(data)]
    assert seen == [f"a{i:03d}" for i in range(25)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("{not json", "query"),
        ({"terms": [], "fields": [], "count": 1001}, "query.count"),
        ({"terms": [], "fields": [], "offset": -1}, "query.offset"),
        ({"terms": [{"type": "string", "term": "status_group", "in_list": ["gold"]}]}, "query.terms.0.in_list"),
        ({"terms": [{"type": "string", "term": "planet", "in_list": ["x"]}]}, "query.terms.0.term"),
        ({"terms": [{"type": "string_attribute", "attribute": "Shoe Size", "in_list": ["9"]}]},
         "query.terms.0.attribute"),
        ({"terms": [{"type": "or", "or": [{"type": "geo"}]}]}, "query.terms.0.or.0.type"),
        ({"terms": [{"type": "date", "term": "create_date"}]}, "query.terms.0"),
        ({"terms": [{"type": "date", "term": "create_date", "gte": "yesterday"}]}, "query.terms.0.gte"),
        ({"terms": [], "fields": [{"type": "health_trend"}]}, "query.fields.0.type"),
        ({"terms": [], "sort_by": "shoe_size"}, "query.sort_by"),
        ({"terms": [], "sort_by": "tags"}, "query.sort_by"),
        ({"terms": [], "sort_order": "UP"}, "query.sort_order"),
    ],
)  # fmt: skip
def test_a_bad_query_fails_in_totangos_shape_naming_its_place(owner, accounts, query, field):
    response, data = form_post(owner.token, query)
    assert response.status_code == 400
    assert data["status"] == "failed"
    assert data["_error"].startswith(f"{field}: ")
    assert data["errors"][0]["field"] == field


def test_a_missing_query_fails(owner, accounts):
    response = Client(HTTP_APP_TOKEN=owner.token).post(URL, {})
    assert response.status_code == 400
    assert orjson.loads(response.content)["_error"].startswith("query: is required")


def test_without_a_token_or_with_a_bad_one_the_answer_is_401_in_totangos_shape(accounts):
    response = Client().post(URL, {"query": "{}"})
    assert response.status_code == 401
    assert orjson.loads(response.content)["status"] == "failed"
    response, data = form_post("tend_not-a-token", {"terms": []})
    assert response.status_code == 401
    assert data["_error"] == "app-token: the API token is unknown or revoked"


def test_a_bearer_token_works_too(owner, accounts):
    response = owner.api.post(URL, {"query": '{"terms": [], "fields": []}'})
    assert response.status_code == 200
    assert orjson.loads(response.content)["response"]["accounts"]["total_hits"] == 4


def test_an_outsider_finds_nothing_of_ours(outsider, accounts):
    _r, data = form_post(
        outsider.token, {"terms": [{"type": "string", "term": "identifier", "in_list": ["acme"]}]}
    )
    assert data["response"]["accounts"] == {"total_hits": 0, "hits": [], "stats": {}}
