"""The profiles API: CRUD, order, the default, versions (list, read, compare, roll back), and
a clear 422 naming the field for every kind of bad input."""

import orjson
import pytest

from tend.accounts.models import AttributeDefinition, AttributeType
from tend.health.actions.profiles import CLASSIC_DEFINITION
from tend.health.actions.scoring import score_workspace
from tend.health.models import AccountHealth, HealthProfile, ProfileVersion
from tend.health.tests.populations import add_accounts, classic, plan_attribute, weighted
from tend.usage.models import Metric

pytestmark = pytest.mark.django_db
BASE = "/api/v1/health/profiles"
PAYING = {"all": [{"field": "status", "op": "eq", "value": "paying"}]}


def send(client, method: str, url: str, body=None):
    return getattr(client, method)(
        url, data=orjson.dumps(body if body is not None else {}), content_type="application/json"
    )


def error_field(response) -> str:
    assert response.status_code == 422, response.content
    return response.json()["errors"][0]["field"]


def default_profile() -> HealthProfile:
    return HealthProfile.objects.get(is_default=True)


def test_profiles_are_listed_in_the_order_they_are_tried_with_the_accounts_each_scored(
    workspace, owner, django_assert_max_num_queries
):
    add_accounts(workspace, [("a", "paying", 5, None), ("b", "trial", 0, None)])
    for name in ("Second", "First"):
        send(owner.api, "post", BASE, {"name": name, "definition": classic(), "condition": PAYING})
    send(
        owner.api, "patch", f"{BASE}/{HealthProfile.objects.get(name='First').pk}", {"position": 0}
    )
    score_workspace(workspace)
    with django_assert_max_num_queries(6):
        response = owner.api.get(BASE)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(p["name"], p["position"], p["is_default"]) for p in items] == [
        ("First", 0, False),
        ("Second", 1, False),
        ("Classic usage rank", 0, True),
    ]
    assert [p["accounts"] for p in items] == [1, 0, 1]
    assert items[0]["current_version"]["number"] == 1
    assert items[2]["definition"] == CLASSIC_DEFINITION


def test_the_profile_list_pages_with_a_cursor(workspace, owner):
    for i in range(4):
        send(owner.api, "post", BASE, {"name": f"P{i}", "definition": classic()})
    first = owner.api.get(f"{BASE}?limit=2").json()
    assert [p["name"] for p in first["items"]] == ["P0", "P1"]
    second = owner.api.get(f"{BASE}?limit=2&cursor={first['next_cursor']}").json()
    third = owner.api.get(f"{BASE}?limit=2&cursor={second['next_cursor']}").json()
    assert [p["name"] for p in second["items"]] == ["P2", "P3"]
    assert [p["name"] for p in third["items"]] == ["Classic usage rank"]
    assert third["next_cursor"] is None
    assert error_field(owner.api.get(f"{BASE}?cursor=nonsense")) == "cursor"


def test_an_admin_creates_a_profile_as_version_1_at_the_end_of_the_order(workspace, owner):
    send(owner.api, "post", BASE, {"name": "Existing", "definition": classic()})
    response = send(
        owner.api,
        "post",
        BASE,
        {
            "name": "Enterprise",
            "description": "Big accounts",
            "condition": PAYING,
            "definition": classic(8, 2),
            "note": "Stricter for big accounts",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["position"], body["condition"]) == ("Enterprise", 1, PAYING)
    assert body["current_version"]["number"] == 1
    assert body["current_version"]["note"] == "Stricter for big accounts"
    assert body["current_version"]["created_by"] is None  # an API token is nobody's seat
    assert owner.api.get(f"{BASE}/{body['id']}").json()["definition"] == classic(8, 2)


def test_a_viewer_reads_profiles_but_cannot_change_them(workspace, viewer):
    profile = default_profile()
    assert viewer.api.get(f"{BASE}/{profile.pk}").status_code == 200
    assert send(viewer.api, "post", BASE, {"name": "X", "definition": classic()}).status_code == 403
    assert send(viewer.api, "patch", f"{BASE}/{profile.pk}", {"name": "X"}).status_code == 403
    assert viewer.api.delete(f"{BASE}/{profile.pk}").status_code == 403
    assert send(viewer.api, "post", f"{BASE}/{profile.pk}/versions/1/rollback").status_code == 403
    assert send(viewer.api, "post", f"{BASE}/{profile.pk}/default").status_code == 403
    assert HealthProfile.objects.get().name == profile.name


def test_an_outsider_gets_404_for_every_profile_route(workspace, owner, outsider):
    profile = default_profile()
    urls = [
        ("get", f"{BASE}/{profile.pk}"),
        ("patch", f"{BASE}/{profile.pk}"),
        ("delete", f"{BASE}/{profile.pk}"),
        ("get", f"{BASE}/{profile.pk}/versions"),
        ("get", f"{BASE}/{profile.pk}/versions/1"),
        ("get", f"{BASE}/{profile.pk}/versions/compare?from=1&to=1"),
        ("post", f"{BASE}/{profile.pk}/versions/1/rollback"),
        ("post", f"{BASE}/{profile.pk}/default"),
        ("post", f"{BASE}/{profile.pk}/preview"),
    ]
    for method, url in urls:
        response = outsider.api.get(url) if method == "get" else send(outsider.api, method, url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert [p["name"] for p in outsider.api.get(BASE).json()["items"]] == []


# --- Bad input -------------------------------------------------------------------------------


def test_weights_that_do_not_sum_to_100_are_refused_naming_the_level(workspace, owner):
    dimensions = weighted(
        ("usage", 60, [("usage.active_days_14d", 100, 4, 1)]),
        ("reach", 30, [("usage.active_users_14d", 100, 3, 1)]),
    )
    response = send(owner.api, "post", BASE, {"name": "W", "definition": dimensions})
    assert error_field(response) == "definition.dimensions"
    assert "sum to 100%" in response.json()["errors"][0]["message"]
    metrics = weighted(
        ("usage", 100, [("usage.active_days_14d", 50, 4, 1), ("usage.events_7d", 40, 10, 1)])
    )
    response = send(owner.api, "post", BASE, {"name": "W", "definition": metrics})
    assert error_field(response) == "definition.dimensions.0.metrics"
    assert not HealthProfile.objects.filter(name="W").exists()


def test_thresholds_out_of_order_are_refused_naming_the_bound(workspace, owner):
    response = send(owner.api, "post", BASE, {"name": "T", "definition": classic(good=1, poor=4)})
    assert error_field(response) == "definition.metrics.0.poor"
    lower = classic(good=20, poor=10, direction="lower")
    assert error_field(send(owner.api, "post", BASE, {"name": "T", "definition": lower})) == (
        "definition.metrics.0.poor"
    )
    ranks = {
        **weighted(("usage", 100, [("usage.active_days_14d", 100, 4, 1)])),
        "thresholds": {"good": 30, "poor": 60},
    }
    assert error_field(send(owner.api, "post", BASE, {"name": "T", "definition": ranks})) == (
        "definition.thresholds.poor"
    )


def test_a_metric_that_does_not_exist_is_refused_naming_it(workspace, owner):
    definition = classic()
    definition["metrics"][0]["source"] = "usage.happiness"
    response = send(owner.api, "post", BASE, {"name": "M", "definition": definition})
    assert error_field(response) == "definition.metrics.0.source"
    assert "usage.happiness" in response.json()["detail"]


def test_a_condition_that_does_not_parse_is_refused_naming_the_clause(workspace, owner):
    bad = {"all": [{"field": "status", "op": "is", "value": "paying"}]}
    response = send(
        owner.api, "post", BASE, {"name": "C", "definition": classic(), "condition": bad}
    )
    assert error_field(response) == "condition.all.0.op"
    profile = default_profile()
    other = send(owner.api, "post", BASE, {"name": "C2", "definition": classic()}).json()
    unknown = {"any": [{"field": "attributes.tier", "op": "eq", "value": "gold"}]}
    response = send(owner.api, "patch", f"{BASE}/{other['id']}", {"condition": unknown})
    assert error_field(response) == "condition.any.0.field"
    response = send(owner.api, "patch", f"{BASE}/{profile.pk}", {"condition": PAYING})
    assert error_field(response) == "condition"


def test_other_bad_bodies_name_their_field(workspace, owner):
    assert error_field(send(owner.api, "post", BASE, {"definition": classic()})) == "name"
    assert error_field(send(owner.api, "post", BASE, {"name": "X", "definition": "rules"})) == (
        "definition"
    )
    assert (
        error_field(
            send(owner.api, "post", BASE, {"name": "X", "definition": classic(), "colour": "red"})
        )
        == "colour"
    )
    send(owner.api, "post", BASE, {"name": "Taken", "definition": classic()})
    assert error_field(
        send(owner.api, "post", BASE, {"name": "Taken", "definition": classic()})
    ) == ("name")
    profile = default_profile()
    assert error_field(send(owner.api, "patch", f"{BASE}/{profile.pk}", {"name": None})) == "name"
    assert error_field(send(owner.api, "patch", f"{BASE}/{profile.pk}", {"position": -1})) == (
        "position"
    )


# --- Changing, deleting, the default ------------------------------------------------------------


def test_saving_a_definition_makes_a_new_version_with_its_note(workspace, owner):
    profile = default_profile()
    response = send(
        owner.api, "patch", f"{BASE}/{profile.pk}", {"definition": classic(6), "note": "Stricter"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["current_version"]["number"], body["current_version"]["note"]) == (2, "Stricter")
    assert body["definition"] == classic(6)
    renamed = send(owner.api, "patch", f"{BASE}/{profile.pk}", {"name": "Usage rank"}).json()
    assert (renamed["name"], renamed["current_version"]["number"]) == ("Usage rank", 2)


def test_a_condition_is_removed_with_null(workspace, owner):
    made = send(
        owner.api, "post", BASE, {"name": "P", "definition": classic(), "condition": PAYING}
    )
    response = send(owner.api, "patch", f"{BASE}/{made.json()['id']}", {"condition": None})
    assert response.json()["condition"] is None


def test_deleting_a_profile_in_use_moves_its_accounts_to_the_next_profile_and_rescored_them(
    workspace, owner
):
    add_accounts(workspace, [("a", "paying", 5, None), ("b", "trial", 0, None)])
    first = send(
        owner.api,
        "post",
        BASE,
        {"name": "Strict", "definition": classic(9, 2), "condition": PAYING},
    )
    send(owner.api, "post", BASE, {"name": "Paying", "definition": classic(), "condition": PAYING})
    score_workspace(workspace)
    assert AccountHealth.objects.get(account__external_id="a").rank == "average"
    response = owner.api.delete(f"{BASE}/{first.json()['id']}")
    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": first.json()["id"], "accounts_rescored": 1}
    health = AccountHealth.objects.select_related("profile").get(account__external_id="a")
    assert (health.profile.name, health.rank) == ("Paying", "good")
    assert not AccountHealth.objects.filter(profile__isnull=True).exists()


def test_the_default_profile_cannot_be_deleted(workspace, owner):
    profile = default_profile()
    assert error_field(owner.api.delete(f"{BASE}/{profile.pk}")) == "profile"
    assert HealthProfile.objects.filter(pk=profile.pk).exists()


def test_any_profile_can_be_made_the_default(workspace, owner):
    old = default_profile()
    made = send(
        owner.api, "post", BASE, {"name": "New", "definition": classic(), "condition": PAYING}
    )
    response = send(owner.api, "post", f"{BASE}/{made.json()['id']}/default")
    assert response.status_code == 200
    assert (response.json()["is_default"], response.json()["condition"]) == (True, None)
    old.refresh_from_db()
    assert old.is_default is False


# --- Versions -----------------------------------------------------------------------------------


def test_versions_are_listed_newest_first_and_read_one_by_one(
    workspace, owner, django_assert_max_num_queries
):
    profile = default_profile()
    for good in (5, 6, 7):
        send(
            owner.api,
            "patch",
            f"{BASE}/{profile.pk}",
            {"definition": classic(good), "note": f"good {good}"},
        )
    with django_assert_max_num_queries(5):
        listed = owner.api.get(f"{BASE}/{profile.pk}/versions?limit=3").json()
    assert [(v["number"], v["is_current"]) for v in listed["items"]] == [
        (4, True),
        (3, False),
        (2, False),
    ]
    rest = owner.api.get(f"{BASE}/{profile.pk}/versions?cursor={listed['next_cursor']}").json()
    assert [v["number"] for v in rest["items"]] == [1]
    one = owner.api.get(f"{BASE}/{profile.pk}/versions/2").json()
    assert (one["note"], one["definition"]) == ("good 5", classic(5))
    assert owner.api.get(f"{BASE}/{profile.pk}/versions/9").status_code == 404


def test_two_versions_compare_as_a_structured_difference(workspace, owner):
    first = weighted(
        ("usage", 60, [("usage.active_days_14d", 100, 4, 1)]),
        ("reach", 40, [("usage.active_users_14d", 100, 3, 1)]),
    )
    second = weighted(
        ("usage", 70, [("usage.active_days_14d", 50, 5, 1), ("usage.events_7d", 50, 20, 2)]),
        ("support", 30, [("usage.engagement", 100, 60, 30)]),
    )
    second["thresholds"] = {"good": 75, "poor": 40}
    made = send(owner.api, "post", BASE, {"name": "W", "definition": first}).json()
    send(owner.api, "patch", f"{BASE}/{made['id']}", {"definition": second})
    response = owner.api.get(f"{BASE}/{made['id']}/versions/compare?from=1&to=2")
    assert response.status_code == 200, response.content
    diff = response.json()
    assert (diff["from"]["number"], diff["to"]["number"], diff["changed"]) == (1, 2, True)
    assert diff["settings"] == [
        {"field": "thresholds.good", "label": "Good from score", "before": 70.0, "after": 75.0}
    ]
    dims = {d["key"]: d for d in diff["dimensions"]}
    assert {k: d["status"] for k, d in dims.items()} == {
        "usage": "changed",
        "support": "added",
        "reach": "removed",
    }
    assert dims["usage"]["changes"] == ["weight"]
    assert (dims["usage"]["before"]["weight"], dims["usage"]["after"]["weight"]) == (60, 70)
    metrics = {m["source"]: m for m in dims["usage"]["metrics"]}
    assert metrics["usage.active_days_14d"]["status"] == "changed"
    assert metrics["usage.active_days_14d"]["changes"] == ["weight", "good"]
    assert (
        metrics["usage.active_days_14d"]["before"]["good"],
        metrics["usage.active_days_14d"]["after"]["good"],
    ) == (4, 5)
    assert metrics["usage.events_7d"]["status"] == "added"
    same = owner.api.get(f"{BASE}/{made['id']}/versions/compare?from=2&to=2").json()
    assert same["changed"] is False
    assert error_field(owner.api.get(f"{BASE}/{made['id']}/versions/compare?from=1&to=7")) == "to"
    assert error_field(owner.api.get(f"{BASE}/{made['id']}/versions/compare?to=2")) == "from"


def test_rolling_back_saves_the_old_definition_as_a_new_version(workspace, owner):
    profile = default_profile()
    send(owner.api, "patch", f"{BASE}/{profile.pk}", {"definition": classic(9)})
    response = send(owner.api, "post", f"{BASE}/{profile.pk}/versions/1/rollback")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["is_current"], body["definition"]) == (3, True, CLASSIC_DEFINITION)
    assert "version 1" in body["note"]
    assert send(owner.api, "post", f"{BASE}/{profile.pk}/versions/8/rollback").status_code == 404


def test_rolling_back_to_a_version_whose_metric_was_removed_is_refused_naming_it(workspace, owner):
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    plan_attribute(workspace)
    seats = weighted(("money", 100, [("attributes.seats", 100, 50, 10)]))
    made = send(owner.api, "post", BASE, {"name": "Seats", "definition": seats}).json()
    send(owner.api, "patch", f"{BASE}/{made['id']}", {"definition": classic()})
    AttributeDefinition.objects.filter(key="seats").delete()
    response = send(owner.api, "post", f"{BASE}/{made['id']}/versions/1/rollback")
    assert error_field(response) == "definition.dimensions.0.metrics.0.source"
    assert ProfileVersion.objects.filter(profile_id=made["id"]).count() == 2


def test_rolling_back_to_a_version_whose_custom_metric_was_deleted_leaves_every_score(
    workspace, owner
):
    add_accounts(workspace, [("a", "paying", 5, None), ("b", "paying", 0, None)])
    Metric.objects.create(workspace=workspace, key="api_calls", label="API calls")
    profile = default_profile()
    calls = weighted(("usage", 100, [("metrics.api_calls", 100, 100, 10)]))
    send(owner.api, "patch", f"{BASE}/{profile.pk}", {"definition": calls})
    send(owner.api, "patch", f"{BASE}/{profile.pk}", {"definition": CLASSIC_DEFINITION})
    score_workspace(workspace)
    before = sorted(AccountHealth.objects.values_list("account__external_id", "rank", "score"))
    Metric.objects.filter(key="api_calls").delete()
    response = send(owner.api, "post", f"{BASE}/{profile.pk}/versions/2/rollback")
    assert error_field(response) == "definition.dimensions.0.metrics.0.source"
    assert "metrics.api_calls" in response.json()["detail"]
    profile.refresh_from_db()
    assert profile.current_version.number == 3
    score_workspace(workspace)
    after = sorted(AccountHealth.objects.values_list("account__external_id", "rank", "score"))
    assert after == before == [("a", "good", 100.0), ("b", "poor", 0.0)]


@pytest.mark.parametrize("seat", ["practitioner", "contributor", "viewer"])
def test_no_lesser_seat_changes_profiles_or_rescores(workspace, owner, request, seat):
    persona = request.getfixturevalue(seat)
    profile = default_profile()
    other = send(owner.api, "post", BASE, {"name": "Other", "definition": classic()}).json()
    refused = [
        send(persona.api, "post", BASE, {"name": "X", "definition": classic()}),
        send(persona.api, "patch", f"{BASE}/{profile.pk}", {"definition": classic(9)}),
        persona.api.delete(f"{BASE}/{other['id']}"),
        send(persona.api, "post", f"{BASE}/{other['id']}/default"),
        send(persona.api, "post", f"{BASE}/{profile.pk}/versions/1/rollback"),
        persona.api.post("/api/v1/health/recompute"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert ProfileVersion.objects.filter(profile=profile).count() == 1
    assert HealthProfile.objects.filter(pk=other["id"], is_default=False).exists()
    # Reading and previewing change nothing, so every seat may.
    assert persona.api.get(f"{BASE}/{profile.pk}/versions").status_code == 200
    preview = send(persona.api, "post", f"{BASE}/{profile.pk}/preview", {"definition": classic(9)})
    assert preview.status_code == 200
