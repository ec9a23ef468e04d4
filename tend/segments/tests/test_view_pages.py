"""The saved view pages: a view's accounts with its columns, sorted by a header, paginated;
the column chooser; saving a sort; exporting; the forms; access and query counts."""

import csv
import io
import re
from html import unescape

import pytest

from tend.accounts.actions.accounts import create_account
from tend.segments.actions import create_segment
from tend.segments.actions.views import create_view
from tend.segments.tests.scorecard_world import ENTERPRISE, PAYING, build_book
from tend.segments.view_models import SavedView

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(owner):
    return build_book(owner)


def text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def names_listed(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<td class="account-name"><a href="/accounts/\d+/">([^<]+)</a>', html)


def headers_of(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<th[^>]*data-column="([^"]+)"', html)


@pytest.fixture
def view(owner, book):
    return create_view(
        owner.actor,
        {
            "name": "Paying by contract",
            "visibility": "shared",
            "condition": PAYING,
            "columns": ["attributes.contract_value", "owner.success_manager", "stage", "status"],
            "sort": ["-attributes.contract_value"],
        },
    )


def test_a_view_lists_its_accounts_with_its_columns_in_its_sort(owner, view):
    response = owner.browser.get(f"/views/{view.pk}/")
    assert response.status_code == 200
    assert headers_of(response) == [
        "name",
        "attributes.contract_value",
        "owner.success_manager",
        "stage",
        "status",
    ]
    assert names_listed(response) == ["Acme", "Globex", "Initech"]
    words = text(response)
    assert "Acme acme 50,000 Alice Anders Adoption Paying" in words
    assert "Accounts where Status is paying" in words
    assert "Showing 1–3 of 3 accounts" in words


def test_clicking_a_header_sorts_the_page_without_changing_the_view(owner, view):
    response = owner.browser.get(f"/views/{view.pk}/?sort=name", HTTP_HX_REQUEST="true")
    assert names_listed(response) == ["Acme", "Globex", "Initech"]
    assert 'id="view-body"' in response.content.decode()
    assert "<html" not in response.content.decode()
    response = owner.browser.get(f"/views/{view.pk}/?sort=-name")
    assert names_listed(response) == ["Initech", "Globex", "Acme"]
    assert "Save this sort" in text(response)
    assert SavedView.objects.get(pk=view.pk).sort == ["-attributes.contract_value"]


def test_saving_the_pages_sort_makes_it_the_views(owner, view):
    response = owner.browser.post(f"/views/{view.pk}/sort/", {"sort": "-name"})
    assert response.status_code == 302
    assert SavedView.objects.get(pk=view.pk).sort == ["-name"]
    assert names_listed(owner.browser.get(f"/views/{view.pk}/")) == ["Initech", "Globex", "Acme"]


def test_the_column_chooser_adds_removes_and_moves_columns(owner, view):
    url = f"/views/{view.pk}/columns/"
    response = owner.browser.post(
        url, {"op": "add", "add": "usage.last_seen"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert headers_of(response)[-1] == "usage.last_seen"
    owner.browser.post(url, {"op": "remove:status"}, HTTP_HX_REQUEST="true")
    owner.browser.post(url, {"op": "earlier:stage"}, HTTP_HX_REQUEST="true")
    assert SavedView.objects.get(pk=view.pk).columns == [
        "attributes.contract_value",
        "stage",
        "owner.success_manager",
        "usage.last_seen",
    ]


def test_adding_a_column_it_has_already_says_so_in_the_chooser(owner, view):
    response = owner.browser.post(
        f"/views/{view.pk}/columns/", {"op": "add", "add": "stage"}, HTTP_HX_REQUEST="true"
    )
    assert "'stage' is already a column" in text(response)
    assert SavedView.objects.get(pk=view.pk).columns.count("stage") == 1


def test_a_long_view_is_paginated(owner, book):
    for i in range(60):
        create_account(
            owner.actor, {"external_id": f"t{i:02}", "name": f"Trial {i:02}", "status": "trial"}
        )
    view = create_view(
        owner.actor,
        {"name": "Trials", "condition": {"field": "status", "op": "eq", "value": "trial"}},
    )
    first = owner.browser.get(f"/views/{view.pk}/")
    assert len(names_listed(first)) == 50
    assert "Page 1 of 2" in text(first)
    second = owner.browser.get(f"/views/{view.pk}/?page=2")
    assert names_listed(second)[-1] == "Umbrella"
    assert len(names_listed(second)) == 11


def test_a_view_exports_its_columns_in_its_sort(owner, view):
    response = owner.browser.get(f"/views/{view.pk}/export/?format=csv")
    assert response.status_code == 200
    assert 'filename="paying-by-contract-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Id",
        "External id",
        "Name",
        "Contract value",
        "Success Manager",
        "Journey stage",
        "Status",
    ]
    assert [r[2] for r in rows[1:]] == ["Acme", "Globex", "Initech"]
    sorted_by_name = owner.browser.get(f"/views/{view.pk}/export/?format=csv&sort=-name")
    rows = list(
        csv.reader(io.StringIO(b"".join(sorted_by_name.streaming_content).decode("utf-8-sig")))
    )
    assert [r[2] for r in rows[1:]] == ["Initech", "Globex", "Acme"]


def test_a_bad_export_format_is_named(owner, view):
    response = owner.browser.get(f"/views/{view.pk}/export/?format=pdf")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"


def test_create_a_view_on_a_segment_through_the_form(owner, book):
    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    response = owner.browser.post(
        "/views/new/",
        {"name": "Enterprise", "visibility": "shared", "source": "segment", "segment": segment.pk},
    )
    view = SavedView.objects.get(name="Enterprise")
    assert response.status_code == 302
    assert (view.source, view.segment_id) == ("segment", segment.pk)
    assert names_listed(owner.browser.get(f"/views/{view.pk}/")) == ["Acme", "Initech"]


def test_the_form_names_its_problems_beside_the_fields(owner, book):
    response = owner.browser.post(
        "/views/new/", {"name": "", "visibility": "private", "source": "all"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    name = html[html.index('id="id_name"') :]
    assert "is required" in name[: name.index("</div>") + 100]
    response = owner.browser.post(
        "/views/new/", {"name": "Quiet", "visibility": "private", "source": "segment"}
    )
    html = response.content.decode()
    segment = html[html.index('id="id_segment"') :]
    assert "choose a segment" in segment[: segment.index("</select>") + 200]
    assert not SavedView.objects.exists()


def test_save_as_view_brings_the_accounts_lists_condition(owner, book):
    response = owner.browser.get('/views/new/?where={"field":"status","op":"eq","value":"paying"}')
    html = response.content.decode()
    assert 'name="source" value="condition" checked' in html
    assert '<option value="status" selected>' in html


def test_a_view_whose_segment_was_deleted_says_so(owner, book):
    from tend.segments.actions import delete_segment

    segment = create_segment(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    view = create_view(owner.actor, {"name": "Enterprise", "segment_id": segment.pk})
    delete_segment(owner.actor, segment)
    assert "Its segment was deleted" in text(owner.browser.get(f"/views/{view.pk}/"))


def test_a_viewer_reads_a_view_but_has_no_chooser_and_cannot_post(viewer, view):
    response = viewer.browser.get(f"/views/{view.pk}/")
    assert response.status_code == 200
    assert "column-chooser" not in response.content.decode()
    assert (
        viewer.browser.post(f"/views/{view.pk}/columns/", {"op": "remove:stage"}).status_code == 403
    )
    assert viewer.browser.post(f"/views/{view.pk}/sort/", {"sort": "name"}).status_code == 403
    assert viewer.browser.get("/views/new/").status_code == 403
    assert "stage" in SavedView.objects.get(pk=view.pk).columns


def test_an_outsider_gets_404_on_every_view_page(outsider, view):
    for url in ("", "edit/", "delete/", "export/?format=csv"):
        assert outsider.browser.get(f"/views/{view.pk}/{url}").status_code == 404, url
    for url in ("columns/", "sort/", "delete/"):
        assert outsider.browser.post(f"/views/{view.pk}/{url}").status_code == 404, url
    assert SavedView.objects.filter(pk=view.pk).exists()
    assert f"/views/{view.pk}/" not in outsider.browser.get("/views/").content.decode()


def test_the_list_names_each_views_accounts(owner, view):
    words = text(owner.browser.get("/views/"))
    assert "Paying by contract Accounts where Status is paying 4 Shared You" in words


def test_a_view_page_costs_the_same_queries_for_more_accounts(
    owner, view, django_assert_max_num_queries
):
    def read():
        assert owner.browser.get(f"/views/{view.pk}/").status_code == 200

    read()
    with django_assert_max_num_queries(40) as captured:
        read()
    before = len(captured)
    for i in range(30):
        create_account(
            owner.actor,
            {"external_id": f"p{i}", "name": f"P {i}", "status": "paying", "tags": ["vip"]},
        )
    with django_assert_max_num_queries(before):
        read()


def test_a_view_whose_condition_names_a_deleted_attribute_says_so(owner, book):
    from tend.accounts.actions.definitions import delete_attribute
    from tend.accounts.models import AttributeDefinition

    view = create_view(
        owner.actor, {"name": "Enterprise", "visibility": "shared", "condition": ENTERPRISE}
    )
    delete_attribute(
        owner.actor, AttributeDefinition.objects.get(workspace=owner.workspace, key="plan")
    )
    assert "Its condition no longer holds" in text(owner.browser.get(f"/views/{view.pk}/"))
    assert "Enterprise" in text(owner.browser.get("/views/"))
    response = owner.api.get(f"/api/v1/views/{view.pk}/accounts")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "condition"
    export = owner.browser.get(f"/views/{view.pk}/export/?format=csv")
    assert export.status_code == 422
