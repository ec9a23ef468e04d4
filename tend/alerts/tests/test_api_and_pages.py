"""Alert rules and follows through the API and the pages: admins write rules, any member
follows, bad input names the field, another workspace's ids are 404."""

import pytest

from tend.alerts.actions import follow
from tend.alerts.models import AlertFiring, AlertRule, FiringStatus, Follow
from tend.segments.actions.segments import create_segment
from tend.workspaces.models import ApiToken

pytestmark = pytest.mark.django_db

RULE = {"name": "Poor", "trigger": {"kind": "health_changed", "config": {"to_rank": "poor"}}}


def test_an_admin_creates_lists_changes_and_deletes_a_rule_through_the_api(owner):
    response = owner.api.post("/api/v1/alert-rules", RULE, content_type="application/json")
    assert response.status_code == 201, response.content
    rule = response.json()
    assert (rule["trigger"], rule["followers"], rule["max_per_hour"]) == (RULE["trigger"], True, 10)
    changed = owner.api.patch(
        f"/api/v1/alert-rules/{rule['id']}",
        {"max_per_hour": 3, "email": True},
        content_type="application/json",
    ).json()
    assert (changed["max_per_hour"], changed["email"]) == (3, True)
    assert [r["name"] for r in owner.api.get("/api/v1/alert-rules").json()["items"]] == ["Poor"]
    assert owner.api.delete(f"/api/v1/alert-rules/{rule['id']}").status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"trigger": {"kind": "nope", "config": {}}}, "trigger.kind"),
        (
            {"trigger": {"kind": "health_changed", "config": {"to_rank": "awful"}}},
            "trigger.config.to_rank",
        ),
        (
            {"trigger": {"kind": "segment_entered", "config": {"segment_id": 999999}}},
            "trigger.config.segment_id",
        ),
        (
            {"trigger": {"kind": "usage_dropped", "config": {"percent": 5}}},
            "trigger.config.percent",
        ),
        ({"max_per_hour": 0}, "max_per_hour"),
        ({"members": [999999]}, "members"),
        ({"slack_url": "http://127.0.0.1/hook"}, "slack_url"),
        ({"followers": False}, "members"),
        ({"in_app": False}, "in_app"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(owner, change, field):
    response = owner.api.post(
        "/api/v1/alert-rules", {**RULE, **change}, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not AlertRule.objects.exists()


def test_readers_list_rules_but_cannot_write_them(owner, viewer, practitioner, make_rule):
    rule = make_rule()
    for persona in (viewer, practitioner):
        assert persona.api.get(f"/api/v1/alert-rules/{rule.pk}").status_code == 200
        assert (
            persona.api.post(
                "/api/v1/alert-rules", RULE | {"name": "x"}, content_type="application/json"
            ).status_code
            == 403
        )
        assert (
            persona.api.patch(
                f"/api/v1/alert-rules/{rule.pk}", {"name": "y"}, content_type="application/json"
            ).status_code
            == 403
        )
        assert persona.api.delete(f"/api/v1/alert-rules/{rule.pk}").status_code == 403
        assert persona.browser.get("/alerts/new/").status_code == 403
        assert persona.browser.post(f"/alerts/{rule.pk}/delete/").status_code == 403
    assert AlertRule.objects.get().name == "Health turned Poor"


def test_another_workspaces_rules_accounts_and_segments_are_404(owner, outsider, acme, make_rule):
    rule = make_rule()
    segment = create_segment(
        owner.actor, {"name": "S", "visibility": "shared", "condition": {"all": []}}
    )
    ApiToken.objects.filter(workspace=outsider.workspace).update(created_by=outsider.member)
    api, web = outsider.api, outsider.browser
    assert api.get(f"/api/v1/alert-rules/{rule.pk}").status_code == 404
    assert (
        api.patch(
            f"/api/v1/alert-rules/{rule.pk}", {"name": "z"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert api.delete(f"/api/v1/alert-rules/{rule.pk}").status_code == 404
    assert api.put(f"/api/v1/accounts/{acme.pk}/follow").status_code == 404
    assert api.put(f"/api/v1/segments/{segment.pk}/follow").status_code == 404
    assert web.get(f"/alerts/{rule.pk}/").status_code == 404
    assert web.get(f"/alerts/{rule.pk}/edit/").status_code == 404
    assert web.post(f"/alerts/{rule.pk}/delete/").status_code == 404
    assert web.post(f"/following/accounts/{acme.pk}/", {"action": "follow"}).status_code == 404
    assert web.post(f"/following/segments/{segment.pk}/", {"action": "follow"}).status_code == 404
    assert AlertRule.objects.get().name == "Health turned Poor" and not Follow.objects.exists()
    assert api.get("/api/v1/alert-rules").json()["items"] == []


def test_following_and_unfollowing_through_the_api(owner, viewer, acme):
    ApiToken.objects.filter(workspace=owner.workspace).update(created_by=viewer.member)
    api = viewer.api  # a viewer follows: it changes only what they are told
    followed = api.put(f"/api/v1/accounts/{acme.pk}/follow")
    assert followed.status_code == 200 and followed.json()["name"] == "Acme Corp"
    assert api.put(f"/api/v1/accounts/{acme.pk}/follow").json()["id"] == followed.json()["id"]
    assert [f["account_id"] for f in api.get("/api/v1/follows").json()["items"]] == [acme.pk]
    assert api.delete(f"/api/v1/accounts/{acme.pk}/follow").status_code == 204
    assert api.get("/api/v1/follows").json()["items"] == []


def test_a_private_segment_of_another_member_cannot_be_followed(owner, practitioner):
    private = create_segment(owner.actor, {"name": "Mine", "condition": {"all": []}})
    assert (
        practitioner.browser.post(
            f"/following/segments/{private.pk}/", {"action": "follow"}
        ).status_code
        == 404
    )


def test_the_follow_button_on_the_account_profile_toggles_with_htmx(owner, acme):
    html = owner.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert "☆ Follow" in html
    response = owner.browser.post(
        f"/following/accounts/{acme.pk}/", {"action": "follow"}, HTTP_HX_REQUEST="true"
    )
    assert "★ Following" in response.content.decode()
    assert Follow.objects.filter(member=owner.member, account=acme).exists()
    assert "★ Following" in owner.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert "Acme Corp" in owner.browser.get("/following/").content.decode()
    owner.browser.post(f"/following/accounts/{acme.pk}/", {"action": "unfollow"})
    assert not Follow.objects.exists()
    assert owner.browser.post(f"/following/accounts/{acme.pk}/", {"action": "x"}).status_code == 400


def test_the_follow_button_on_the_segment_page(owner):
    segment = create_segment(
        owner.actor, {"name": "Big", "visibility": "shared", "condition": {"all": []}}
    )
    assert "☆ Follow" in owner.browser.get(f"/segments/{segment.pk}/").content.decode()
    response = owner.browser.post(
        f"/following/segments/{segment.pk}/", {"action": "follow", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/segments/{segment.pk}/"
    assert "★ Following" in owner.browser.get(f"/segments/{segment.pk}/").content.decode()


def test_the_editor_creates_a_rule_and_names_the_bad_field(owner, practitioner):
    form = {
        "name": "Cancelled",
        "kind": "event_received",
        "activity": "subscription_cancelled",
        "followers": "on",
        "members": [str(practitioner.member.pk)],
        "in_app": "on",
        "email": "on",
        "max_per_hour": "5",
        "is_active": "on",
    }
    bad = owner.browser.post("/alerts/new/", {**form, "max_per_hour": "many"})
    assert bad.status_code == 422 and "max_per_hour" in bad.content.decode()
    bad = owner.browser.post("/alerts/new/", {**form, "activity": ""})
    assert bad.status_code == 422 and "activity" in bad.content.decode()
    assert not AlertRule.objects.exists()
    assert owner.browser.post("/alerts/new/", form).status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.trigger_config, rule.members, rule.email, rule.max_per_hour) == (
        {"activity": "subscription_cancelled"},
        [practitioner.member.pk],
        True,
        5,
    )
    edit = owner.browser.get(f"/alerts/{rule.pk}/edit/").content.decode()
    assert 'value="subscription_cancelled"' in edit


def test_the_rules_page_counts_suppressed_alerts_in_fixed_queries(
    owner, viewer, acme, make_rule, django_assert_max_num_queries
):
    rules = [make_rule(name=f"Rule {i}") for i in range(6)]
    for rule in rules:
        for n in range(3):
            AlertFiring.objects.create(
                workspace=owner.workspace,
                rule=rule,
                key=f"k{n}",
                recipient=f"member:{owner.member.pk}",
                member=owner.member,
                account=acme,
                status=FiringStatus.SUPPRESSED if n else FiringStatus.SENT,
            )
    client = viewer.browser
    with django_assert_max_num_queries(14):
        html = client.get("/alerts/").content.decode()
    assert html.count('<span class="badge badge-running">2</span>') == 6
    assert "New alert rule" not in html  # a viewer reads, does not write
    with django_assert_max_num_queries(14):
        detail = client.get(f"/alerts/{rules[0].pk}/").content.decode()
    assert detail.count("Suppressed</span>") == 2


def test_following_only_lists_my_follows(owner, practitioner, acme):
    follow(practitioner.member, account=acme)
    assert "Acme Corp" not in owner.browser.get("/following/").content.decode()


def test_following_and_rule_lists_cost_a_fixed_number_of_queries(
    owner, make_rule, django_assert_max_num_queries
):
    from tend.accounts.actions.accounts import create_account

    ApiToken.objects.filter(workspace=owner.workspace).update(created_by=owner.member)
    for i in range(12):
        follow(
            owner.member,
            account=create_account(owner.actor, {"external_id": f"f{i}", "name": f"F{i}"}),
        )
        make_rule(name=f"Rule {i}")
    segment = create_segment(
        owner.actor, {"name": "Seg", "visibility": "shared", "condition": {"all": []}}
    )
    follow(owner.member, segment=segment)
    web, api = owner.browser, owner.api
    web.get("/following/"), api.get("/api/v1/follows")
    with django_assert_max_num_queries(8):
        assert web.get("/following/").content.decode().count("Unfollow</button>") == 13
    with django_assert_max_num_queries(5):
        assert len(api.get("/api/v1/follows").json()["items"]) == 13
    with django_assert_max_num_queries(5):
        assert len(api.get("/api/v1/alert-rules").json()["items"]) == 12


def test_a_rule_cannot_watch_another_members_private_segment(owner, practitioner):
    private = create_segment(
        practitioner.actor, {"name": "Practitioner's own", "condition": {"all": []}}
    )
    rule = {**RULE, "trigger": {"kind": "segment_entered", "config": {"segment_id": private.pk}}}
    response = owner.api.post("/api/v1/alert-rules", rule, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "trigger.config.segment_id"


def test_the_editor_offers_new_accounts_for_a_status_rule(owner):
    page = owner.browser.get("/alerts/new/").content.decode()
    assert 'id="id_new_accounts" name="new_accounts" checked' in page
    form = {"name": "New paying", "kind": "status_changed", "to_status": "paying", "in_app": "on",
            "followers": "on", "max_per_hour": "5", "is_active": "on", "new_accounts": "on"}  # fmt: skip
    assert owner.browser.post("/alerts/new/", form).status_code == 302
    rule = AlertRule.objects.get()
    assert rule.trigger_config == {"to_status": "paying", "new_accounts": True}
    listed = owner.browser.get("/alerts/").content.decode()
    assert "Status changed to paying (or account created as paying)" in listed
    del form["new_accounts"]
    assert owner.browser.post(f"/alerts/{rule.pk}/edit/", form).status_code == 302
    rule.refresh_from_db()
    assert rule.trigger_config["new_accounts"] is False
    edit = owner.browser.get(f"/alerts/{rule.pk}/edit/").content.decode()
    assert 'id="id_new_accounts" name="new_accounts">' in edit
