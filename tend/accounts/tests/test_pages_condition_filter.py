"""The accounts list filtered by a condition (``where=<JSON>`` in its address) and the
condition builder's requests: redraw after an edit, the live count with errors under their
rows, Apply keeping the other filters."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts import extensions
from tend.accounts.actions.accounts import create_account
from tend.accounts.extensions import ConditionLink, add_condition_link
from tend.accounts.models import Account, AttributeDefinition, AttributeType
from tend.accounts.tests.builder_forms import posted

pytestmark = pytest.mark.django_db
URL = "/accounts/"
PLAN_PRO = {"all": [{"field": "attributes.plan", "op": "eq", "value": "pro"}]}


@pytest.fixture
def accounts(owner, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="plan", label="Plan", type=AttributeType.ENUM,
        options=["free", "pro"], position=0,
    )  # fmt: skip
    for key, status, plan in [
        ("acme", "paying", "pro"),
        ("globex", "trial", "pro"),
        ("initech", "paying", "free"),
        ("umbrella", "paying", None),
    ]:
        attributes = {"plan": plan} if plan else {}
        create_account(
            owner.actor,
            {"external_id": key, "name": key.title(), "status": status, "attributes": attributes},
        )


def listed(html: str) -> set[str]:
    return set(re.findall(r'<span class="mono" title="External id">([^<]+)</span>', html))


def where(condition) -> str:
    return json.dumps(condition)


def builder_post(client, path, condition=None, **fields):
    """Post a builder as the browser would: drawn from ``condition`` by the panel, then
    ``fields`` changed (a value typed, a field picked)."""
    panel = client.get("/accounts/condition/", {"where": where(condition)} if condition else {})
    data = posted(panel.content.decode(), **{"cb-prefix": "where"})
    for name, value in fields.items():
        data[name.replace("__", "-")] = value
    return client.post(path, data, HTTP_HX_REQUEST="true")


def test_a_condition_in_the_address_filters_the_list_and_is_said_in_words(owner, accounts):
    response = owner.browser.get(URL, {"where": where(PLAN_PRO), "status": "paying"})
    html = response.content.decode()
    assert listed(html) == {"acme"}
    assert "Plan is pro" in html
    assert "Edit the condition" in html
    # The filter bar keeps the condition, in its short form, for the next change of filters.
    assert '<input type="hidden" name="where" value="{&quot;all&quot;:[{&quot;field' in html


def test_links_keep_the_condition_and_removing_it_keeps_the_other_filters(owner, accounts):
    html = owner.browser.get(URL, {"where": where(PLAN_PRO), "status": "trial"}).content.decode()
    remove = re.search(r'<a href="([^"]+)" class="muted-link-dark">Remove the condition</a>', html)
    assert parse_qs(urlparse(remove.group(1).replace("&amp;", "&")).query) == {"status": ["trial"]}
    sort = re.search(r'<th><a href="([^"]+)"[^>]*>Status', html).group(1).replace("&amp;", "&")
    assert json.loads(parse_qs(urlparse(sort).query)["where"][0]) == PLAN_PRO


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '{"all": [{"field": "attributes.plan", "op": "eq", "value": "gold"}]}',
            "unknown option &#x27;gold&#x27;",
        ),
        ('{"all": [{"field": "nope", "op": "is_set"}]}', "unknown field &#x27;nope&#x27;"),
        ("{oops", "not valid JSON"),
    ],
)
def test_a_condition_with_problems_lists_nothing_and_opens_the_builder_on_them(
    owner, accounts, text, message
):
    html = owner.browser.get(URL, {"where": text}).content.decode()
    assert listed(html) == set()
    assert "This condition cannot be used yet" in html
    assert '<details class="condition-panel is-active" id="condition-panel" open' in html
    error = "where-error" if text == "{oops" else "where-r_0-error"
    slot = re.search(rf'id="{error}" role="alert">([^<]*)<', html).group(1)
    assert message in slot


def test_the_panel_draws_the_builder_for_the_condition_in_the_address(owner, accounts):
    html = owner.browser.get(
        "/accounts/condition/", {"where": where(PLAN_PRO)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert '<option value="attributes.plan" selected' in html
    assert '<option value="pro" selected>pro</option>' in html
    assert "<html" not in html  # a fragment for htmx…
    page = owner.browser.get("/accounts/condition/").content.decode()
    assert "<h1>Filter accounts by condition</h1>" in page  # …a page without it


def test_apply_goes_to_the_list_with_the_condition_and_the_filter_bar_s_filters(owner, accounts):
    response = builder_post(
        owner.browser, "/accounts/condition/apply/", PLAN_PRO, status="paying", q="ac"
    )
    assert response.status_code == 204
    target = urlparse(response["HX-Redirect"])
    query = parse_qs(target.query)
    assert target.path == URL and query["status"] == ["paying"] and query["q"] == ["ac"]
    assert json.loads(query["where"][0]) == PLAN_PRO


def test_apply_without_htmx_redirects(owner, accounts):
    panel = owner.browser.get("/accounts/condition/", {"where": where(PLAN_PRO)})
    response = owner.browser.post("/accounts/condition/apply/", posted(panel.content.decode()))
    assert response.status_code == 302 and "where=" in response["Location"]


def test_apply_with_a_blank_builder_removes_the_condition(owner, accounts):
    response = builder_post(owner.browser, "/accounts/condition/apply/", status="paying")
    assert response["HX-Redirect"] == "/accounts/?status=paying"


def test_apply_with_problems_answers_422_with_the_error_under_its_row(owner, accounts):
    response = builder_post(
        owner.browser,
        "/accounts/condition/apply/",
        PLAN_PRO,
        where__r_0__op="in",
        where__r_0__value="",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'id="where-r_0-error" role="alert">Value: expected a non-empty list', html)


def test_the_count_says_how_many_accounts_match_in_the_actors_workspace_only(
    owner, outsider, accounts
):
    create_account(outsider.actor, {"external_id": "acme", "name": "Acme", "attributes": {}})
    response = builder_post(owner.browser, "/accounts/conditions/count/", PLAN_PRO)
    html = response.content.decode()
    assert re.search(r'data-count="2">2</span> <span class="muted">of 4 accounts match', html)
    assert 'id="where-r_0-error" role="alert" hx-swap-oob="true"></div>' in html


def test_the_count_puts_each_error_under_its_row_and_waits_for_unfinished_ones(owner, accounts):
    condition = {"any": [
        {"field": "attributes.plan", "op": "eq", "value": "pro"},
        {"field": "status", "op": "eq", "value": "trial"},
        {"field": "name", "op": "contains", "value": "x"},
    ]}  # fmt: skip
    response = builder_post(
        owner.browser, "/accounts/conditions/count/", condition,
        where__r_1__value="", where__r_2__op="gt",
    )  # fmt: skip
    html = response.content.decode()
    assert "Fix the conditions marked in red" in html
    assert re.search(r'class="cb-error cb-pending" id="where-r_1-error"[^>]*>Choose a value', html)
    assert re.search(r'id="where-r_2-error"[^>]*>Operator: &#x27;gt&#x27; does not apply', html)


def test_a_row_waiting_for_its_value_is_left_out_of_the_count(owner, accounts):
    response = builder_post(
        owner.browser, "/accounts/conditions/count/", PLAN_PRO, where__r_0__value=""
    )
    assert 'data-count="4"' in response.content.decode()


def test_redraw_applies_the_edit_and_keeps_the_builder_s_count_address(owner, accounts):
    response = builder_post(
        owner.browser, "/accounts/conditions/builder/", PLAN_PRO,
        where__op="add_group:r", **{"cb-count": "/accounts/conditions/count/"},
    )  # fmt: skip
    html = response.content.decode()
    assert 'name="where-r_1-kind"' in html and 'name="where-r_1_0-field"' in html
    assert 'hx-post="/accounts/conditions/count/"' in html
    # Only a count view of ours may be named: anything else falls back to the default.
    response = builder_post(
        owner.browser, "/accounts/conditions/builder/", PLAN_PRO, **{"cb-count": "/logout/"}
    )
    assert 'hx-post="/logout/"' not in response.content.decode()


def test_the_builder_s_requests_need_a_name_and_a_login(owner, client, accounts):
    assert (
        owner.browser.post("/accounts/conditions/count/", {"cb-prefix": "Bad Name"}).status_code
        == 400
    )
    assert owner.browser.post("/accounts/conditions/builder/", {}).status_code == 400
    assert client.post("/accounts/conditions/count/", {"cb-prefix": "where"}).status_code == 302


def test_a_viewer_filters_by_condition_too(viewer, accounts):
    assert listed(viewer.browser.get(URL, {"where": where(PLAN_PRO)}).content.decode()) == {
        "acme",
        "globex",
    }
    assert builder_post(viewer.browser, "/accounts/conditions/count/", PLAN_PRO).status_code == 200


@pytest.fixture
def save_link():
    add_condition_link(
        ConditionLink("save", "Save it", url=lambda text: f"/save/?where={text}", right="write")
    )
    yield
    extensions._condition_links.pop("save")


def test_links_other_apps_add_sit_beside_the_condition_for_those_with_the_right(
    owner, viewer, accounts, save_link
):
    html = owner.browser.get(URL, {"where": where(PLAN_PRO)}).content.decode()
    assert 'class="btn btn-sm">Save it</a>' in html
    assert "Save it" not in viewer.browser.get(URL, {"where": where(PLAN_PRO)}).content.decode()


def test_the_number_of_queries_with_a_condition_does_not_grow_with_the_page(
    owner, workspace, accounts, django_assert_max_num_queries
):
    params = {"where": where({"all": [{"field": "status", "op": "eq", "value": "paying"}]})}
    owner.browser.get(URL, params)
    with CaptureQueriesContext(connection) as small:
        owner.browser.get(URL, params)
    Account.objects.bulk_create(
        [
            Account(workspace=workspace, external_id=f"bulk-{i}", name=f"Bulk {i}", status="paying")
            for i in range(60)
        ]
    )
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = owner.browser.get(URL, params).content.decode()
    assert len(listed(html)) == 50
