"""``/api/v1/scorecards``: CRUD, cards, and one scorecard with every card's value, status and
trend; outsiders get 404, a viewer cannot write, bad input names its field, and reading a
scorecard costs the same queries however many accounts and cards it has."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.segments.actions import create_segment
from tend.segments.actions.evaluation import local_day
from tend.segments.actions.scorecards import add_card, create_scorecard
from tend.segments.scorecard_models import KpiCard, KpiValue, Scorecard
from tend.segments.tests.scorecard_world import ENTERPRISE, PAYING, build_book
from tend.test import make_persona

pytestmark = pytest.mark.django_db
BASE = "/api/v1/scorecards"


@pytest.fixture
def book(owner):
    return build_book(owner)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


@pytest.fixture
def revenue(owner, book):
    scorecard = create_scorecard(owner.actor, {"name": "Revenue", "visibility": "shared"})
    add_card(
        owner.actor,
        scorecard,
        {"title": "Paying", "condition": PAYING, "target": 4, "tolerance": 1},
    )
    add_card(
        owner.actor,
        scorecard,
        {
            "title": "Enterprise share",
            "kind": "percentage",
            "condition": ENTERPRISE,
            "base": "paying",
            "target": 50,
        },
    )
    return scorecard


def test_a_scorecard_comes_with_every_cards_value_status_and_trend(owner, revenue):
    response = owner.api.get(f"{BASE}/{revenue.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["visibility"], body["card_count"]) == ("Revenue", "shared", 2)
    paying, share = body["cards"]
    assert (paying["value"], paying["value_text"], paying["status"]) == (3.0, "3", "at_risk")
    assert paying["target"] == 4 and paying["direction"] == "at_least"
    assert paying["accounts_url"].startswith("/accounts/?where=")
    assert paying["trend"] == [
        {"day": local_day(owner.workspace, timezone.now()).isoformat(), "value": 3.0}
    ]
    assert (share["value_text"], share["accounts"], share["base_accounts"]) == ("66.7%", 2, 3)
    assert share["status"] == "on_track"


def test_a_card_with_a_problem_has_no_value_and_says_why(owner, revenue):
    card = KpiCard.objects.get(title="Paying")
    KpiCard.objects.filter(pk=card.pk).update(source="segment", condition=None)
    body = owner.api.get(f"{BASE}/{revenue.pk}").json()
    assert body["cards"][0]["value"] is None
    assert body["cards"][0]["status"] == "no_value"
    assert body["cards"][0]["problem"].startswith("Its segment was deleted")
    assert body["cards"][0]["accounts_url"] is None


def test_create_change_and_delete_a_scorecard_and_its_cards(owner, book):
    response = post(owner.api, BASE, {"name": "Adoption", "visibility": "shared"})
    assert response.status_code == 201, response.json()
    scorecard_id = response.json()["id"]
    assert response.json()["cards"] == []

    response = post(
        owner.api,
        f"{BASE}/{scorecard_id}/cards",
        {
            "title": "Average events",
            "kind": "average",
            "field": "usage.events_30d",
            "condition": PAYING,
            "target": 10,
        },
    )
    assert response.status_code == 201, response.json()
    card = response.json()
    # acme: 1 event; globex: 0 in 30 days (its use was 40 days ago); initech sent none ever.
    assert (card["value"], card["accounts"], card["status"]) == (0.5, 2, "off_track")

    response = patch(
        owner.api, f"{BASE}/{scorecard_id}/cards/{card['id']}", {"target": 0.5, "title": "Events"}
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["status"]) == ("Events", "on_track")

    response = patch(owner.api, f"{BASE}/{scorecard_id}", {"name": "Product adoption"})
    assert response.json()["name"] == "Product adoption"

    assert owner.api.delete(f"{BASE}/{scorecard_id}/cards/{card['id']}").status_code == 204
    assert not KpiCard.objects.filter(pk=card["id"]).exists()
    assert owner.api.delete(f"{BASE}/{scorecard_id}").status_code == 204
    assert not Scorecard.objects.filter(pk=scorecard_id).exists()


def test_a_cards_daily_values_come_oldest_first(owner, revenue):
    card = revenue.cards.get(title="Paying")
    today = local_day(owner.workspace, timezone.now())
    KpiValue.objects.create(
        workspace=owner.workspace, card=card, day=today - datetime.timedelta(days=2), value=1
    )
    response = owner.api.get(f"{BASE}/{revenue.pk}/cards/{card.pk}/values")
    assert response.json()["items"] == [
        {"day": (today - datetime.timedelta(days=2)).isoformat(), "value": 1.0},
        {"day": today.isoformat(), "value": 3.0},
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "x", "kind": "sum"}, "field", "is required: the number field to sum"),
        (
            {
                "title": "x",
                "condition": {"all": [{"field": "statuz", "op": "eq", "value": "paying"}]},
            },
            "condition.all.0.field",
            "unknown field 'statuz'; did you mean 'status'?",
        ),
        ({"title": "x", "kind": "ratio"}, "kind", None),
        ({"title": "x", "tolerance": -1}, "tolerance", None),
        ({"title": "x", "colour": "red"}, "colour", None),
        ({"title": "x", "segment_id": 12345}, "segment_id", "unknown segment 12345"),
    ],
)
def test_a_bad_card_gets_422_naming_the_field(owner, revenue, data, field, message):
    response = post(owner.api, f"{BASE}/{revenue.pk}/cards", data)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == field
    if message is not None:
        assert error["message"] == message
    assert revenue.cards.count() == 2


def test_a_viewer_reads_scorecards_but_cannot_write(owner, viewer, revenue):
    assert viewer.api.get(f"{BASE}/{revenue.pk}").status_code == 200
    assert post(viewer.api, BASE, {"name": "Mine"}).status_code == 403
    assert patch(viewer.api, f"{BASE}/{revenue.pk}", {"name": "x"}).status_code == 403
    assert post(viewer.api, f"{BASE}/{revenue.pk}/cards", {"title": "x"}).status_code == 403
    card = revenue.cards.first()
    assert (
        patch(viewer.api, f"{BASE}/{revenue.pk}/cards/{card.pk}", {"title": "x"}).status_code == 403
    )
    assert viewer.api.delete(f"{BASE}/{revenue.pk}").status_code == 403
    assert Scorecard.objects.get(pk=revenue.pk).name == "Revenue"


def test_an_outsider_gets_404_for_everything_and_changes_nothing(outsider, revenue):
    card = revenue.cards.first()
    for response in (
        outsider.api.get(f"{BASE}/{revenue.pk}"),
        patch(outsider.api, f"{BASE}/{revenue.pk}", {"name": "Mine now"}),
        outsider.api.delete(f"{BASE}/{revenue.pk}"),
        post(outsider.api, f"{BASE}/{revenue.pk}/cards", {"title": "x"}),
        patch(outsider.api, f"{BASE}/{revenue.pk}/cards/{card.pk}", {"title": "x"}),
        outsider.api.delete(f"{BASE}/{revenue.pk}/cards/{card.pk}"),
        outsider.api.get(f"{BASE}/{revenue.pk}/cards/{card.pk}/values"),
    ):
        assert response.status_code == 404
    assert outsider.api.get(BASE).json()["items"] == []
    assert Scorecard.objects.get(pk=revenue.pk).name == "Revenue"
    assert revenue.cards.count() == 2


def test_a_card_of_another_scorecard_is_not_found_through_this_one(owner, revenue):
    other = create_scorecard(owner.actor, {"name": "Other", "visibility": "shared"})
    card = revenue.cards.first()
    assert owner.api.delete(f"{BASE}/{other.pk}/cards/{card.pk}").status_code == 404


def test_another_members_private_scorecard_is_not_found(owner, practitioner, book):
    mine = create_scorecard(owner.actor, {"name": "Mine"})
    assert practitioner.api.get(f"{BASE}/{mine.pk}").status_code == 404
    assert [s["id"] for s in practitioner.api.get(BASE).json()["items"]] == []


def test_the_list_pages_by_cursor(owner):
    for i in range(3):
        create_scorecard(owner.actor, {"name": f"Card set {i}", "visibility": "shared"})
    first = owner.api.get(f"{BASE}?limit=2").json()
    second = owner.api.get(f"{BASE}?limit=2&cursor={first['next_cursor']}").json()
    assert [s["name"] for s in first["items"] + second["items"]] == [
        "Card set 0",
        "Card set 1",
        "Card set 2",
    ]
    assert second["next_cursor"] is None


def test_reading_a_scorecard_costs_the_same_queries_with_more_accounts_and_cards(
    owner, revenue, django_assert_max_num_queries
):
    def read():
        assert owner.api.get(f"{BASE}/{revenue.pk}").status_code == 200

    with django_assert_max_num_queries(30) as captured:
        read()
    before = len(captured)
    for i in range(20):
        create_account(
            owner.actor, {"external_id": f"more-{i}", "name": f"More {i}", "status": "paying"}
        )
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    for title in ("Third", "Fourth", "Fifth"):
        add_card(owner.actor, revenue, {"title": title, "segment_id": segment.pk})
    with django_assert_max_num_queries(before):
        read()


def test_a_token_no_member_created_makes_shared_scorecards_only(workspace, book):
    robot = make_persona(workspace)
    response = post(robot.api, BASE, {"name": "Robot's"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "visibility"
    assert post(robot.api, BASE, {"name": "Robot's", "visibility": "shared"}).status_code == 201
