"""Health settings pages: the profile list, the editor (structural edits, live preview, save
with errors beside the field), new/move/default/delete, versions, compare and roll back —
for an owner, a viewer and an outsider, with CSRF on every POST."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tend.accounts.models import AttributeDefinition, AttributeType
from tend.health.actions.profiles import CLASSIC_DEFINITION, create_profile, update_profile
from tend.health.actions.scoring import score_workspace
from tend.health.models import AccountHealth, HealthProfile, ProfileVersion
from tend.health.tests.populations import add_accounts, classic, plan_attribute, weighted

pytestmark = pytest.mark.django_db
PAYING = {"all": [{"field": "status", "op": "eq", "value": "paying"}]}


def default_profile() -> HealthProfile:
    return HealthProfile.objects.get(is_default=True)


def editor_url(profile) -> str:
    return reverse("health:profile", kwargs={"profile_id": profile.pk})


def classic_form(**changes) -> dict:
    """The editor's form for the classic rule, as the page posts it."""
    data = {
        "name": "Classic usage rank",
        "description": "",
        "kind": "rules",
        "kind_was": "rules",
        "d-0-key": "rules",
        "d-0-label": "Rules",
        "d-0-weight": "100",
        "d-0-m-0-source": "usage.active_days_14d",
        "d-0-m-0-label": "Active days, last 14 days",
        "d-0-m-0-grading": "thresholds",
        "d-0-m-0-direction": "higher",
        "d-0-m-0-good": "4",
        "d-0-m-0-poor": "1",
        "d-0-m-0-missing": "poor",
        "points_good": "100",
        "points_average": "60",
        "points_poor": "0",
        "parent_mode": "own",
        "note": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def population(workspace):
    plan_attribute(workspace)
    add_accounts(
        workspace,
        [
            ("a1", "paying", 10, {"plan": "enterprise"}),
            ("a2", "paying", 5, None),
            ("a3", "paying", 2, None),
            ("a4", "trial", 0, None),
        ],
    )
    score_workspace(workspace)


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_each_profile_in_order_with_its_condition_in_words_and_accounts(
    workspace, owner, population, django_assert_max_num_queries
):
    create_profile(
        owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic(8, 2)}
    )
    create_profile(owner.actor, {"name": "Drafty", "definition": classic()})
    score_workspace(workspace)
    client = owner.browser
    # 20: the condition catalog reads each field provider's definitions once; the layout's
    # bell counts unread notifications.
    with django_assert_max_num_queries(20):
        response = client.get(reverse("health:profiles"))
    assert response.status_code == 200
    html = response.content.decode()
    names = re.findall(r'data-profile="([^"]+)"', html)
    assert names == ["Paying", "Drafty", "Classic usage rank"]
    assert "Status is paying" in html
    assert "No condition — scores no account" in html
    assert "Every account no other profile claims" in html
    assert "Make default" in html and "New profile" in html
    rows = dict(re.findall(r'data-profile="([^"]+)".*?<td class="num">(\d+)</td>', html, re.S))
    assert rows == {"Paying": "3", "Drafty": "0", "Classic usage rank": "1"}


def test_settings_and_the_health_dashboard_link_to_the_profiles(workspace, owner, population):
    profiles = reverse("health:profiles")
    assert f'href="{profiles}"' in owner.browser.get(reverse("workspaces:members")).content.decode()
    assert f'href="{profiles}"' in owner.browser.get(reverse("health:dashboard")).content.decode()


def test_a_stale_condition_is_flagged_in_the_list(workspace, owner, population):
    create_profile(
        owner.actor,
        {
            "name": "Enterprise",
            "condition": {"all": [{"field": "attributes.plan", "op": "eq", "value": "enterprise"}]},
            "definition": classic(),
        },
    )
    from tend.accounts.models import AttributeDefinition

    AttributeDefinition.objects.filter(key="plan").delete()
    html = owner.browser.get(reverse("health:profiles")).content.decode()
    assert "No longer valid" in html and "attributes.plan" in html


def test_a_viewer_sees_profiles_read_only_and_cannot_post(workspace, viewer, population):
    profile = default_profile()
    html = viewer.browser.get(reverse("health:profiles")).content.decode()
    assert "Classic usage rank" in html
    assert "Make default" not in html and "New profile" not in html
    editor = viewer.browser.get(editor_url(profile)).content.decode()
    assert "Only admins can change health profiles" in editor
    assert '<fieldset class="editor-fieldset" disabled>' in editor
    assert 'id="preview"' not in editor
    assert viewer.browser.post(editor_url(profile), classic_form(op="save")).status_code == 403
    assert viewer.browser.get(reverse("health:profile_new")).status_code == 403
    for name in ("health:profile_move", "health:profile_default", "health:profile_delete"):
        url = reverse(name, kwargs={"profile_id": profile.pk})
        assert viewer.browser.post(url, {"direction": "up"}).status_code == 403
    rollback = reverse("health:profile_rollback", kwargs={"profile_id": profile.pk, "number": 1})
    assert viewer.browser.post(rollback).status_code == 403
    assert ProfileVersion.objects.count() == 1


def test_an_outsider_gets_404_on_every_profile_page(workspace, outsider, population):
    profile = default_profile()
    kwargs = {"profile_id": profile.pk}
    for name in ("health:profile", "health:profile_versions", "health:profile_compare"):
        assert outsider.browser.get(reverse(name, kwargs=kwargs)).status_code == 404
    for name in (
        "health:profile",
        "health:profile_preview",
        "health:profile_move",
        "health:profile_default",
        "health:profile_delete",
    ):
        assert (
            outsider.browser.post(reverse(name, kwargs=kwargs), classic_form()).status_code == 404
        )
    rollback = reverse("health:profile_rollback", kwargs={**kwargs, "number": 1})
    assert outsider.browser.post(rollback).status_code == 404
    theirs = outsider.browser.get(reverse("health:profiles")).content.decode()
    assert editor_url(profile) not in theirs


def test_every_post_needs_the_csrf_token(workspace, owner, population):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    profile = default_profile()
    kwargs = {"profile_id": profile.pk}
    posts = [
        (editor_url(profile), classic_form(op="save", note="x")),
        (reverse("health:profile_preview", kwargs=kwargs), classic_form()),
        (reverse("health:profile_new"), {"name": "Sneaky", "start": "classic"}),
        (reverse("health:profile_default", kwargs=kwargs), {}),
        (reverse("health:profile_rollback", kwargs={**kwargs, "number": 1}), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert ProfileVersion.objects.count() == 1
    assert not HealthProfile.objects.filter(name="Sneaky").exists()


# --- the editor ------------------------------------------------------------------------------


def test_the_editor_shows_the_profile_as_a_form_with_the_metric_choices(
    workspace, owner, population, django_assert_max_num_queries
):
    profile = default_profile()
    client = owner.browser
    with django_assert_max_num_queries(20):
        response = client.get(editor_url(profile))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="d-0-m-0-good" value="4"' in html
    assert '<optgroup label="Usage">' in html and '<optgroup label="Attributes">' in html
    assert 'value="usage.active_days_14d" selected' in html
    assert "This is the <strong>default</strong> profile" in html
    assert 'hx-trigger="input delay:400ms from:#editor-form"' in html


def test_structural_edits_redraw_the_form_without_saving(workspace, owner, population):
    profile = default_profile()
    url = editor_url(profile)
    headers = {"HTTP_HX_REQUEST": "true"}
    added = owner.browser.post(url, classic_form(op="add_metric:0"), **headers)
    assert added.status_code == 200
    html = added.content.decode()
    assert 'name="d-0-m-1-source"' in html and "<html" not in html
    # Rules → weighted keeps the metrics in one dimension with weights summing to 100.
    weighted_form = owner.browser.post(
        url, classic_form(kind="weighted", kind_was="rules", op="refresh"), **headers
    ).content.decode()
    assert 'name="d-0-key" value="usage"' in weighted_form
    assert 'name="d-0-m-0-weight" value="100"' in weighted_form
    assert "Good from a score of" in weighted_form
    second = owner.browser.post(
        url,
        {**classic_form(kind="weighted"), "d-0-m-0-weight": "100", "op": "add_dimension"},
        **headers,
    ).content.decode()
    assert 'name="d-1-key" value="dimension_2"' in second
    clause = owner.browser.post(url, classic_form(op="add_clause"), **headers).content.decode()
    assert "This is the <strong>default</strong> profile" in clause  # the default takes none
    assert ProfileVersion.objects.count() == 1


def test_the_preview_panel_shows_what_the_draft_would_change(workspace, owner, population):
    profile = default_profile()
    url = reverse("health:profile_preview", kwargs={"profile_id": profile.pk})
    response = owner.browser.post(url, classic_form(**{"d-0-m-0-good": "8", "d-0-m-0-poor": "3"}))
    assert response.status_code == 200
    html = response.content.decode()
    # a2 5 → Average, a3 2 → Poor
    assert re.search(r'data-testid="changed-rank">2<', html)
    assert re.search(r'data-testid="paying-good">1<', html)
    assert re.search(r'data-testid="paying-poor">1<', html)
    assert "A3" in html and "A2" in html
    assert ProfileVersion.objects.count() == 1


def test_the_preview_panel_names_the_field_of_a_draft_that_cannot_be_scored(
    workspace, owner, population
):
    profile = default_profile()
    url = reverse("health:profile_preview", kwargs={"profile_id": profile.pk})
    html = owner.browser.post(
        url, classic_form(**{"d-0-m-0-good": "1", "d-0-m-0-poor": "3"})
    ).content.decode()
    assert "The draft cannot be scored yet" in html
    assert "Metrics › metric 1: Poor bound: must not be above good" in html
    assert "d-0-m-0-poor" in html  # data-errors for the form


def test_saving_makes_a_new_version_with_the_note(workspace, owner, population):
    profile = default_profile()
    response = owner.browser.post(
        editor_url(profile), classic_form(op="save", note="Stricter", **{"d-0-m-0-good": "6"})
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.current_version.number, profile.current_version.note) == (2, "Stricter")
    assert profile.current_version.definition["metrics"][0]["good"] == 6
    assert profile.current_version.created_by == owner.member
    # Saving only a new name makes no version.
    owner.browser.post(
        editor_url(profile), classic_form(op="save", name="Usage rank", **{"d-0-m-0-good": "6"})
    )
    profile.refresh_from_db()
    assert (profile.name, profile.current_version.number) == ("Usage rank", 2)


def test_a_save_that_fails_shows_the_error_beside_its_field(workspace, owner, population):
    profile = default_profile()
    response = owner.browser.post(
        editor_url(profile), classic_form(op="save", **{"d-0-m-0-good": "1", "d-0-m-0-poor": "3"})
    )
    assert response.status_code == 422
    html = response.content.decode()
    block = re.search(
        r'data-field="d-0-m-0-poor">.*?<div class="error" role="alert">([^<]*)<', html, re.S
    )
    assert block and "must not be above good" in block.group(1)
    assert "Nothing was saved" in html
    assert ProfileVersion.objects.count() == 1


def test_a_weighted_profile_saves_with_a_condition_from_the_builder(workspace, owner, population):
    profile = create_profile(
        owner.actor,
        {
            "name": "Weighted",
            "definition": weighted(
                ("usage", 60, [("usage.active_days_14d", 100, 4, 1)]),
                ("reach", 40, [("usage.active_users_14d", 100, 3, 1)]),
            ),
        },
    )
    data = {
        "name": "Weighted",
        "kind": "weighted",
        "kind_was": "weighted",
        "d-0-key": "usage",
        "d-0-label": "Usage",
        "d-0-weight": "70",
        "d-0-m-0-source": "usage.active_days_14d",
        "d-0-m-0-weight": "100",
        "d-0-m-0-grading": "linear",
        "d-0-m-0-direction": "higher",
        "d-0-m-0-low": "0",
        "d-0-m-0-high": "10",
        "d-0-m-0-missing": "ignore",
        "d-1-key": "reach",
        "d-1-label": "Reach",
        "d-1-weight": "30",
        "d-1-m-0-source": "usage.visit_frequency",
        "d-1-m-0-weight": "100",
        "d-1-m-0-cat-daily": "good",
        "d-1-m-0-cat-weekly": "average",
        "d-1-m-0-cat-inactive": "poor",
        "d-1-m-0-missing": "poor",
        "thresholds_good": "75",
        "thresholds_poor": "40",
        "points_good": "100",
        "points_average": "60",
        "points_poor": "0",
        "parent_mode": "own",
        "condition_mode": "builder",
        "match": "any",
        "c-0-field": "status",
        "c-0-op": "in",
        "c-0-value": "paying, trial",
        "op": "save",
        "note": "Linear usage",
    }
    response = owner.browser.post(editor_url(profile), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.condition == {
        "any": [{"field": "status", "op": "in", "value": ["paying", "trial"]}]
    }
    saved = profile.current_version.definition
    assert saved["thresholds"] == {"good": 75, "poor": 40}
    assert [d["weight"] for d in saved["dimensions"]] == [70, 30]
    assert saved["dimensions"][0]["metrics"][0]["grading"] == "linear"
    assert saved["dimensions"][1]["metrics"][0]["categories"] == {
        "daily": "good",
        "weekly": "average",
        "inactive": "poor",
    }
    # The page shows it again as saved, the condition in the builder.
    html = owner.browser.get(editor_url(profile)).content.decode()
    assert 'name="c-0-value" id="c-0-value" value="paying, trial"' in html
    assert '<option value="any" selected>any</option>' in html


def test_a_condition_error_is_shown_beside_its_clause(workspace, owner, population):
    profile = create_profile(owner.actor, {"name": "Paying", "definition": classic()})
    data = classic_form(
        name="Paying",
        op="save",
        condition_mode="builder",
        match="all",
        **{"c-0-field": "status", "c-0-op": "eq", "c-0-value": "rich"},
    )
    response = owner.browser.post(editor_url(profile), data)
    assert response.status_code == 422
    html = response.content.decode()
    block = re.search(
        r'data-field="c-0-value">.*?<div class="error" role="alert">([^<]*)<', html, re.S
    )
    assert block and "unknown option" in block.group(1)
    json_mode = classic_form(
        name="Paying", op="save", condition_mode="json", condition_json="{all: ["
    )
    html = owner.browser.post(editor_url(profile), json_mode).content.decode()
    assert "is not valid JSON" in html


def test_a_clause_offers_the_operators_of_its_field(workspace, owner, population):
    """``segment`` takes in / not in only, as in the accounts' builder; no change operators."""
    profile = create_profile(owner.actor, {"name": "Paying", "definition": classic()})
    data = classic_form(
        name="Paying",
        op="refresh",
        condition_mode="builder",
        match="all",
        **{"c-0-field": "segment", "c-0-op": "", "c-0-value": ""},
    )
    html = owner.browser.post(editor_url(profile), data, HTTP_HX_REQUEST="true").content.decode()
    select = re.search(r'<select name="c-0-op".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([a-z_]+)"', select) == ["in", "not_in"]
    data.update({"c-0-field": "usage.events_7d"})
    html = owner.browser.post(editor_url(profile), data, HTTP_HX_REQUEST="true").content.decode()
    select = re.search(r'<select name="c-0-op".*?</select>', html, re.S).group(0)
    offered = re.findall(r'<option value="([a-z_]+)"', select)
    assert "gt" in offered and "changed_by" not in offered


# --- new, move, default, delete --------------------------------------------------------------


def test_a_new_profile_starts_from_a_copy_and_opens_in_the_editor(workspace, owner, population):
    source = default_profile()
    update_profile(owner.actor, source, {"definition": classic(7)})
    response = owner.browser.post(
        reverse("health:profile_new"), {"name": "Copy", "start": f"copy-{source.pk}"}
    )
    made = HealthProfile.objects.get(name="Copy")
    assert response.status_code == 302 and response["Location"] == editor_url(made)
    assert made.current_version.definition == classic(7)
    assert made.condition is None
    taken = owner.browser.post(reverse("health:profile_new"), {"name": "Copy", "start": "classic"})
    assert taken.status_code == 422
    assert "already called" in taken.content.decode()


def test_profiles_move_up_and_down_and_any_can_become_the_default(workspace, owner, population):
    first = create_profile(owner.actor, {"name": "First", "definition": classic()})
    second = create_profile(owner.actor, {"name": "Second", "definition": classic()})
    owner.browser.post(
        reverse("health:profile_move", kwargs={"profile_id": second.pk}), {"direction": "up"}
    )
    order = list(
        HealthProfile.objects.filter(is_default=False)
        .order_by("position")
        .values_list("name", flat=True)
    )
    assert order == ["Second", "First"]
    owner.browser.post(reverse("health:profile_default", kwargs={"profile_id": first.pk}))
    assert default_profile().name == "First"


def test_deleting_asks_first_and_says_how_many_accounts_move(workspace, owner, population):
    paying = create_profile(
        owner.actor, {"name": "Paying", "condition": PAYING, "definition": classic()}
    )
    score_workspace(workspace)
    url = reverse("health:profile_delete", kwargs={"profile_id": paying.pk})
    page = owner.browser.get(url).content.decode()
    assert "It scored <strong>3 accounts</strong>" in page
    response = owner.browser.post(url, follow=True)
    assert not HealthProfile.objects.filter(name="Paying").exists()
    assert "3 accounts it scored were scored again" in response.content.decode()
    default = default_profile()
    refused = owner.browser.get(reverse("health:profile_delete", kwargs={"profile_id": default.pk}))
    assert refused.status_code == 302


# --- versions ------------------------------------------------------------------------------------


def test_the_history_lists_versions_and_compares_two_side_by_side(
    workspace, owner, population, django_assert_max_num_queries
):
    profile = default_profile()
    update_profile(owner.actor, profile, {"definition": classic(6), "note": "Six days"})
    update_profile(owner.actor, profile, {"definition": classic(6, 2), "note": "Poor below two"})
    client = owner.browser
    with django_assert_max_num_queries(10):
        html = client.get(
            reverse("health:profile_versions", kwargs={"profile_id": profile.pk})
        ).content.decode()
    assert re.findall(r'data-version="(\d+)"', html) == ["3", "2", "1"]
    assert "Poor below two" in html and "Roll back to 1" in html
    compare = owner.browser.get(
        reverse("health:profile_compare", kwargs={"profile_id": profile.pk}) + "?from=1&to=3"
    )
    assert compare.status_code == 200
    page = compare.content.decode()
    assert page.count('<dd class="changed">') == 4  # good 4 → 6, poor 1 → 2 on both sides
    assert ">changed</span>" in page
    missing = owner.browser.get(
        reverse("health:profile_compare", kwargs={"profile_id": profile.pk}) + "?from=1&to=9"
    )
    assert missing.status_code == 404


def test_rolling_back_from_the_history_saves_a_new_version(workspace, owner, population):
    profile = default_profile()
    update_profile(owner.actor, profile, {"definition": classic(9)})
    url = reverse("health:profile_rollback", kwargs={"profile_id": profile.pk, "number": 1})
    response = owner.browser.post(url, follow=True)
    profile.refresh_from_db()
    assert profile.current_version.number == 3
    assert profile.current_version.definition == CLASSIC_DEFINITION
    assert "version 3 has the definition of version 1" in response.content.decode()


def test_rolling_back_to_a_version_with_a_deleted_metric_is_refused_naming_it(
    workspace, owner, population
):
    seats = AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    profile = default_profile()
    update_profile(
        owner.actor,
        profile,
        {"definition": weighted(("money", 100, [("attributes.seats", 100, 50, 10)]))},
    )
    update_profile(owner.actor, profile, {"definition": CLASSIC_DEFINITION})
    score_workspace(workspace)
    before = sorted(AccountHealth.objects.values_list("account_id", "rank"))
    seats.delete()
    url = reverse("health:profile_rollback", kwargs={"profile_id": profile.pk, "number": 2})
    html = owner.browser.post(url, follow=True).content.decode()
    assert "Version 2 cannot be restored" in html
    assert "attributes.seats" in html and "definition.dimensions.0.metrics.0.source" in html
    profile.refresh_from_db()
    assert profile.current_version.number == 3
    score_workspace(workspace)
    assert sorted(AccountHealth.objects.values_list("account_id", "rank")) == before
    assert all(rank for _account, rank in before)


def test_the_list_flags_a_profile_whose_metric_no_longer_exists(workspace, owner, population):
    seats = AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type=AttributeType.NUMBER
    )
    create_profile(
        owner.actor,
        {
            "name": "Seats",
            "definition": weighted(("money", 100, [("attributes.seats", 100, 50, 10)])),
        },
    )
    html = owner.browser.get(reverse("health:profiles")).content.decode()
    assert 'data-testid="missing-metrics"' not in html
    seats.delete()
    html = owner.browser.get(reverse("health:profiles")).content.decode()
    flagged = re.findall(r'data-testid="missing-metrics"[^>]*>([^<]*)<', html)
    assert flagged == ["Uses a metric that no longer exists: attributes.seats"]
