"""The accounts list page: search, filters, sorting, pages, htmx partials, empty states."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.actions.accounts import create_account
from tend.accounts.forms import sort_choices
from tend.accounts.models import (
    Account,
    AccountTag,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    Stage,
    Tag,
)
from tend.accounts.queries import all_sorts
from tend.test import make_member

URL = "/accounts/"


@pytest.fixture
def world(owner, workspace):
    """Three accounts with stages, owners in two roles, tags and attribute values."""
    onboarding = Stage.objects.create(workspace=workspace, name="Onboarding", position=0)
    adoption = Stage.objects.create(workspace=workspace, name="Adoption", position=1)
    csm = AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    sales = AssignmentRole.objects.create(
        workspace=workspace, key="sales_manager", name="Sales Manager", position=1
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type="enum",
        options=["Gold", "Silver"],
        position=0,
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="arr", label="ARR", type="currency", position=1
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="renewal", label="Renewal", type="date", position=2
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="hidden", label="Fourth", type="text", position=3
    )
    alice = make_member(workspace, "practitioner", "alice@acme.test", "Alice Anders")
    bob = make_member(workspace, "practitioner", "bob@acme.test", "Bob Brown")
    actor = owner.actor
    accounts = {
        "acme": create_account(
            actor,
            {
                "external_id": "ext-acme",
                "name": "Acme Corp",
                "status": "paying",
                "stage": "Onboarding",
                "tags": ["enterprise", "emea"],
                "attributes": {
                    "plan": "Gold",
                    "arr": 120000,
                    "renewal": "2027-03-01",
                    "hidden": "secret-col",
                },
                "assignments": {
                    "success_manager": alice.user.email,
                    "sales_manager": bob.user.email,
                },
            },
        ),
        "globex": create_account(
            actor,
            {
                "external_id": "ext-globex",
                "name": "Globex",
                "status": "trial",
                "stage": "Adoption",
                "tags": ["smb"],
                "assignments": {"success_manager": bob.user.email},
            },
        ),
        "initech": create_account(
            actor,
            {
                "external_id": "INI-7",
                "name": "Initech",
                "status": "churned",
                "attributes": {"plan": "Silver"},
            },
        ),
    }
    return {
        "accounts": accounts,
        "stages": {"onboarding": onboarding, "adoption": adoption},
        "roles": {"csm": csm, "sales": sales},
        "members": {"alice": alice, "bob": bob},
        "tags": {t.name: t for t in Tag.objects.filter(workspace=workspace)},
    }


def names(response) -> list[str]:
    """Account names in table order, read from the profile links."""
    return re.findall(
        r'<td class="account-name"><a href="/accounts/\d+/">([^<]+)</a>', response.content.decode()
    )


def test_the_list_shows_each_account_with_status_stage_owner_tags_and_three_attribute_columns(
    owner, world
):
    response = owner.browser.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert names(response) == ["Acme Corp", "Globex", "Initech"]
    assert '<span class="badge badge-paying">Paying</span>' in html
    assert "Onboarding" in html and "Alice Anders" in html
    assert '<span class="tag">enterprise</span>' in html
    assert ">Success Manager</th>" in html
    assert "120,000" in html and "2027-03-01" in html and "Gold" in html
    # Only the first three attribute definitions by position become columns.
    assert "Fourth" not in html and "secret-col" not in html
    assert "Showing 1–3 of 3 accounts" in html


def test_search_matches_the_name_or_the_external_id(owner, world):
    assert names(owner.browser.get(URL, {"q": "glob"})) == ["Globex"]
    assert names(owner.browser.get(URL, {"q": "INI-"})) == ["Initech"]
    assert names(owner.browser.get(URL, {"q": "ext-"})) == ["Acme Corp", "Globex"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda w: {"status": "trial"}, ["Globex"]),
        (lambda w: {"stage": w["stages"]["adoption"].pk}, ["Globex"]),
        (lambda w: {"stage": "none"}, ["Initech"]),
        (lambda w: {"owner": w["members"]["bob"].pk}, ["Acme Corp", "Globex"]),
        (lambda w: {"owner": w["members"]["bob"].pk, "role": w["roles"]["csm"].pk}, ["Globex"]),
        (lambda w: {"owner": w["members"]["alice"].pk, "role": w["roles"]["sales"].pk}, []),
        (lambda w: {"owner": "none"}, ["Initech"]),
        (lambda w: {"tag": w["tags"]["emea"].pk}, ["Acme Corp"]),
        (lambda w: {"status": "paying", "tag": w["tags"]["smb"].pk}, []),
    ],
)
def test_filters_narrow_the_list(owner, world, params, expected):
    response = owner.browser.get(URL, params(world))
    assert response.status_code == 200
    assert names(response) == expected


def test_a_filter_value_from_another_workspace_is_ignored_rather_than_used(
    owner, world, other_workspace
):
    foreign_tag = Tag.objects.create(workspace=other_workspace, name="foreign")
    assert names(owner.browser.get(URL, {"tag": foreign_tag.pk})) == [
        "Acme Corp",
        "Globex",
        "Initech",
    ]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Acme Corp", "Globex", "Initech"]),
        ("-name", ["Initech", "Globex", "Acme Corp"]),
        ("status", ["Initech", "Acme Corp", "Globex"]),  # churned, paying, trial
        ("-status", ["Globex", "Acme Corp", "Initech"]),
        ("stage", ["Acme Corp", "Globex", "Initech"]),  # no stage sorts last both ways
        ("-stage", ["Globex", "Acme Corp", "Initech"]),
        ("updated", ["Globex", "Initech", "Acme Corp"]),
        ("-updated", ["Acme Corp", "Initech", "Globex"]),
        ("created", ["Initech", "Acme Corp", "Globex"]),
        ("-created", ["Globex", "Acme Corp", "Initech"]),
    ],
)
def test_sorting_orders_by_the_chosen_column_both_ways(owner, world, sort, expected):
    base = timezone.now() - datetime.timedelta(days=10)
    accounts = world["accounts"]
    for key, created, updated in (("acme", 2, 9), ("globex", 3, 1), ("initech", 1, 5)):
        Account.objects.filter(pk=accounts[key].pk).update(
            created_at=base + datetime.timedelta(days=created),
            updated_at=base + datetime.timedelta(days=updated),
        )
    assert names(owner.browser.get(URL, {"sort": sort})) == expected


def test_pages_hold_fifty_accounts_and_link_to_the_next(owner, workspace):
    Account.objects.bulk_create(
        [
            Account(workspace=workspace, external_id=f"a{i:03}", name=f"Account {i:03}")
            for i in range(120)
        ]
    )
    first = owner.browser.get(URL)
    assert len(names(first)) == 50
    assert 'href="/accounts/?page=2"' in first.content.decode()
    third = owner.browser.get(URL, {"page": 3})
    assert names(third) == [f"Account {i:03}" for i in range(100, 120)]
    assert "Page 3 of 3" in third.content.decode()
    # Out-of-range and junk page numbers land on a real page rather than failing.
    assert names(owner.browser.get(URL, {"page": 99}))[0] == "Account 100"
    assert names(owner.browser.get(URL, {"page": "x"}))[0] == "Account 000"


def test_pager_links_keep_the_filters_and_sort(owner, workspace):
    Account.objects.bulk_create(
        [
            Account(
                workspace=workspace, external_id=f"a{i:03}", name=f"Account {i:03}", status="paying"
            )
            for i in range(60)
        ]
    )
    html = owner.browser.get(
        URL, {"status": "paying", "sort": "-name", "q": "Account"}
    ).content.decode()
    assert 'href="/accounts/?q=Account&amp;status=paying&amp;sort=-name&amp;page=2"' in html


def test_an_htmx_request_gets_only_the_results_and_the_address_to_push(owner, world):
    response = owner.browser.get(
        URL, {"q": "glob", "status": "", "sort": "name"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert names(response) == ["Globex"]
    assert html.lstrip().startswith('<div id="account-results"')
    assert "<html" not in html and 'id="account-filters"' not in html
    # Empty and default parameters are dropped so the address bar stays readable.
    assert response["HX-Push-Url"] == "/accounts/?q=glob"
    assert "HX-Request" in response["Vary"]
    # The Sort select is kept in step with a click on a column header.
    assert 'hx-swap-oob="true"' in html


def test_a_plain_get_of_the_pushed_address_renders_the_whole_page(owner, world):
    response = owner.browser.get(URL, {"q": "glob"})
    html = response.content.decode()
    assert "<html" in html and 'id="account-filters"' in html and 'value="glob"' in html
    assert names(response) == ["Globex"]


def test_a_history_restore_gets_the_whole_page(owner, world):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in owner.browser.get(URL, headers=headers).content.decode()


def test_sort_headers_link_to_the_reverse_order_of_the_current_sort(owner, world):
    html = owner.browser.get(URL, {"sort": "name"}).content.decode()
    assert 'href="/accounts/?sort=-name"' in html
    assert 'href="/accounts/?sort=-updated"' in html  # newest first on the first click


def _make_page_of_accounts(workspace, owner_member, role, n):
    tags = [Tag.objects.create(workspace=workspace, name=f"t{n}-{i}") for i in range(3)]
    accounts = Account.objects.bulk_create(
        [Account(workspace=workspace, external_id=f"q{n}-{i}", name=f"Q {n} {i}") for i in range(n)]
    )
    AccountTag.objects.bulk_create([AccountTag(account=a, tag=t) for a in accounts for t in tags])
    Assignment.objects.bulk_create(
        [
            Assignment(workspace=workspace, account=a, role=role, member=owner_member)
            for a in accounts
        ]
    )


def test_the_number_of_queries_does_not_grow_with_the_page(
    owner, workspace, django_assert_max_num_queries
):
    role = AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    Stage.objects.create(workspace=workspace, name="Onboarding")
    AttributeDefinition.objects.create(workspace=workspace, key="plan", label="Plan")
    _make_page_of_accounts(workspace, owner.member, role, 3)
    owner.browser.get(URL)  # warm the session and the template cache

    with CaptureQueriesContext(connection) as small:
        owner.browser.get(URL)
    assert len(small.captured_queries) <= 14
    _make_page_of_accounts(workspace, owner.member, role, 60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner.browser.get(URL)
    assert len(names(response)) == 50


def test_an_empty_workspace_says_how_to_add_accounts(owner):
    html = owner.browser.get(URL).content.decode()
    assert "No accounts yet" in html
    assert "/api/v1/accounts" in html and "tend demo" in html
    assert 'href="/accounts/new/"' in html


def test_no_match_offers_to_clear_the_filters(owner, world):
    html = owner.browser.get(URL, {"q": "nothing like this", "sort": "-name"}).content.decode()
    assert "No accounts match these filters" in html
    assert "No accounts yet" not in html
    assert (
        'href="/accounts/?sort=-name">Clear filters' in html
        or 'href="/accounts/?sort=-name"' in html
    )


def test_a_viewer_sees_the_list_without_the_new_account_button(viewer, world):
    html = viewer.browser.get(URL).content.decode()
    assert "Acme Corp" in html
    assert "/accounts/new/" not in html


def test_the_list_shows_only_the_actors_workspace(outsider, world):
    html = outsider.browser.get(URL).content.decode()
    assert "Acme Corp" not in html and "No accounts yet" in html


def test_names_typed_by_users_are_escaped(owner, workspace):
    create_account(owner.actor, {"external_id": "<b>x</b>", "name": "<script>alert(1)</script>"})
    html = owner.browser.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_list_requires_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_sort_select_offers_every_sortable_column_both_ways(owner, world):
    offered = {value for value, _label in sort_choices()}
    assert offered == set(all_sorts()) | {f"-{key}" for key in all_sorts()}
