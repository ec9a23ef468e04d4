"""The segments pages: the list (shared and my private ones, the change in 7 days, an empty
state that says what to do), a segment (members with the accounts list's columns, history,
counts), creating and editing with the condition builder (errors beside their field or under
their row), deleting, adding and removing accounts of a static segment; who may do what."""

import datetime
import json
import re
from urllib.parse import quote

import pytest
from django.utils import timezone

from tend.accounts.tests.builder_forms import posted
from tend.segments.actions import add_accounts, create_segment, record_counts
from tend.segments.actions.evaluation import local_day
from tend.segments.models import Segment, SegmentChange, SegmentCount, SegmentMember
from tend.segments.tests.conftest import ENTERPRISE, PAYING, shared
from tend.test import make_persona
from tend.workspaces.models import Seat

pytestmark = pytest.mark.django_db
LIST = "/segments/"


def detail(segment) -> str:
    return f"/segments/{segment.pk}/"


def listed(html: str) -> list[str]:
    return re.findall(r'<a class="segment-name" href="/segments/\d+/">([^<]+)</a>', html)


def members(html: str) -> set[str]:
    return set(re.findall(r'<span class="mono" title="External id">([^<]+)</span>', html))


def form_data(client, url: str, **fields):
    """What the browser posts from the form at ``url``, with ``fields`` changed (``__`` for
    ``-`` in builder input names)."""
    data = posted(client.get(url).content.decode())
    for name, value in fields.items():
        data[name.replace("__", "-")] = value
    return data


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_shared_segments_and_my_private_ones_only(owner, practitioner, book):
    shared(owner, "Paying", {"all": [PAYING]})
    create_segment(owner.actor, {"name": "Mine", "condition": {"all": [ENTERPRISE]}})
    create_segment(practitioner.actor, {"name": "Theirs", "condition": {"all": []}})
    html = owner.browser.get(LIST).content.decode()
    assert listed(html) == ["Mine", "Paying"]
    assert re.search(r">Shared<span class=\"job-tab-count\">1</span>", html)
    assert listed(owner.browser.get(LIST, {"show": "mine"}).content.decode()) == ["Mine"]
    assert listed(owner.browser.get(LIST, {"show": "shared"}).content.decode()) == ["Paying"]
    assert listed(owner.browser.get(LIST, {"q": "pay"}).content.decode()) == ["Paying"]


def test_each_row_says_kind_visibility_members_owner_and_the_change_in_7_days(
    owner, book, workspace
):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    today = local_day(workspace, timezone.now())
    SegmentCount.objects.create(
        workspace=workspace, segment=segment, day=today - datetime.timedelta(days=9), members=6
    )
    html = owner.browser.get(LIST).content.decode()
    row = html[html.index('class="segment-name"') :]
    row = row[: row.index("</tr>")]
    assert "Dynamic" in row and "Shared" in row and "<strong>4</strong>" in row
    assert '<span class="change-down">−2</span>' in row
    assert "<td>You</td>" in row


def test_a_segment_counted_for_less_than_a_week_is_new(owner, book):
    shared(owner, "Paying", {"all": [PAYING]})
    assert ">new</span>" in owner.browser.get(LIST).content.decode()


def test_the_empty_list_says_how_to_create_one(owner, viewer):
    html = owner.browser.get(LIST).content.decode()
    assert "No segments yet" in html and "Save as segment" in html
    assert 'href="/segments/new/"' in html
    assert 'href="/segments/new/"' not in viewer.browser.get(LIST).content.decode()


def test_the_list_queries_do_not_grow_with_the_number_of_segments(
    owner, book, workspace, django_assert_max_num_queries
):
    for i in range(3):
        shared(owner, f"Static {i}")
    owner.browser.get(LIST)
    with django_assert_max_num_queries(12) as captured:
        owner.browser.get(LIST)
    for i in range(3, 30):
        shared(owner, f"Static {i}")
    record_counts(workspace)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        html = owner.browser.get(LIST).content.decode()
    assert len(listed(html)) == 30


def test_segments_sit_in_the_navigation(owner):
    assert (
        '<a href="/segments/" class="nav-item">Segments</a>'
        in owner.browser.get("/accounts/").content.decode()
    )


# --- a segment ---------------------------------------------------------------------------------


def test_a_segment_shows_its_condition_members_history_and_counts(owner, book, workspace):
    segment = shared(owner, "Paying enterprise", {"all": [PAYING, ENTERPRISE]})
    html = owner.browser.get(detail(segment)).content.decode()
    assert "Status is paying and Plan is enterprise" in html
    assert members(html) == {"acme", "initech"}
    assert ">Success Manager</th>" in html or ">Owner</th>" in html  # the accounts list's columns
    assert html.count('<span class="badge badge-entered">Entered</span>') == 2
    assert '<script id="segment-counts-data" type="application/json">' in html
    today = local_day(workspace, timezone.now()).isoformat()
    points = json.loads(re.search(r'id="segment-counts-data"[^>]*>([^<]*)<', html).group(1))
    assert points == [[today, 2]]
    assert "the chart draws itself from the second day on" in html


def test_the_members_sort_search_and_page_like_the_accounts_list(owner, book, workspace):
    segment = shared(owner, "Everyone", {"all": []})
    html = owner.browser.get(detail(segment), {"sort": "-name"}).content.decode()
    assert re.findall(r'<td class="account-name"><a href="/accounts/\d+/">([^<]+)</a>', html)[
        :2
    ] == ["Wayne", "Umbrella"]
    partial = owner.browser.get(
        detail(segment), {"mq": "ac"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="segment-members"
    )
    text = partial.content.decode()
    assert members(text) == {"acme"} and "<html" not in text


def test_the_members_page_queries_do_not_grow_with_the_page(
    owner, book, workspace, django_assert_max_num_queries
):
    segment = shared(owner, "Everyone", {"all": []})
    owner.browser.get(detail(segment))
    with django_assert_max_num_queries(40) as captured:
        owner.browser.get(detail(segment))
    from tend.accounts.models import Account

    Account.objects.bulk_create(
        [Account(workspace=workspace, external_id=f"bulk-{i}", name=f"Bulk {i}") for i in range(60)]
    )
    from tend.segments.actions import evaluate_segment

    evaluate_segment(segment)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        html = owner.browser.get(detail(segment)).content.decode()
    assert len(members(html)) == 50 and "Next →</a>" in html


def test_the_full_history_pages_and_filters_by_kind(owner, book, workspace):
    segment = shared(owner, "List")
    add_accounts(owner.actor, segment, external_ids=["acme", "globex"])
    from tend.segments.actions import remove_accounts

    remove_accounts(owner.actor, segment, external_ids=["acme"])
    html = owner.browser.get(f"{detail(segment)}history/").content.decode()
    assert html.count("badge-entered") == 2 and html.count("badge-left") == 1
    left = owner.browser.get(f"{detail(segment)}history/", {"kind": "left"}).content.decode()
    assert left.count("badge-entered") == 0 and "Acme" in left
    assert owner.member.name in left  # who removed it


def test_another_members_private_segment_and_other_workspaces_are_404(
    owner, practitioner, outsider, book
):
    private = create_segment(practitioner.actor, {"name": "Theirs", "condition": {"all": []}})
    for path in ("", "edit/", "history/", "delete/"):
        assert owner.browser.get(f"{detail(private)}{path}").status_code == 404
        assert outsider.browser.get(f"{detail(private)}{path}").status_code == 404
    assert (
        outsider.browser.post(f"{detail(private)}accounts/add/", {"account_id": 1}).status_code
        == 404
    )


# --- creating and editing ----------------------------------------------------------------------


def test_creating_a_dynamic_segment_from_the_builder(owner, book):
    data = form_data(
        owner.browser, "/segments/new/", name="Paying", visibility="shared",
        condition__r_0__field="status", condition__r_0__was="status", condition__r_0__op="eq",
        condition__r_0__value="paying",
    )  # fmt: skip
    response = owner.browser.post("/segments/new/", data)
    segment = Segment.objects.get(name="Paying")
    assert response.status_code == 302 and response["Location"] == detail(segment)
    assert segment.condition == {"all": [PAYING]} and segment.member_count == 4
    assert segment.visibility == "shared" and segment.owner == owner.member


def test_save_as_segment_brings_the_accounts_list_s_condition(owner, book):
    condition = {"all": [PAYING, {"any": [ENTERPRISE, {"field": "tags", "op": "is_set"}]}]}
    html = owner.browser.get(
        f"/segments/new/?where={quote(json.dumps(condition))}"
    ).content.decode()
    data = posted(html, name="From the list")
    owner.browser.post("/segments/new/", data)
    assert Segment.objects.get(name="From the list").condition == condition


def test_the_accounts_list_offers_save_as_segment_to_those_who_may_create_one(
    owner, viewer, contributor, book
):
    where = quote(json.dumps({"all": [PAYING]}))
    link = "Save as segment</a>"
    assert link in owner.browser.get(f"/accounts/?where={where}").content.decode()
    assert link in contributor.browser.get(f"/accounts/?where={where}").content.decode()
    assert link not in viewer.browser.get(f"/accounts/?where={where}").content.decode()


def test_a_missing_name_is_shown_beside_the_name(owner, book):
    data = form_data(owner.browser, "/segments/new/?kind=static", name="")
    response = owner.browser.post("/segments/new/", data)
    assert response.status_code == 422
    assert re.search(
        r'<div class="error" role="alert">is required</div>', response.content.decode()
    )
    assert not Segment.objects.exists()


def test_a_bad_value_is_shown_under_its_row_and_nothing_is_saved(owner, book):
    condition = {"all": [PAYING, {"field": "attributes.plan", "op": "eq", "value": "pro"}]}
    html = owner.browser.get(
        f"/segments/new/?where={quote(json.dumps(condition))}"
    ).content.decode()
    data = posted(html, name="Bad")
    data["condition-r_1-op"] = "gt"
    response = owner.browser.post("/segments/new/", data)
    assert response.status_code == 422
    slot = re.search(r'id="condition-r_1-error" role="alert">([^<]*)<', response.content.decode())
    assert "Operator: &#x27;gt&#x27; does not apply to attributes.plan" in slot.group(1)
    assert not Segment.objects.exists()


def test_a_blank_builder_says_a_dynamic_segment_needs_a_condition(owner, book):
    response = owner.browser.post(
        "/segments/new/", form_data(owner.browser, "/segments/new/", name="Empty")
    )
    assert response.status_code == 422
    assert re.search(
        r'id="condition-error" role="alert">Is required: a dynamic segment',
        response.content.decode(),
    )


def test_a_builder_button_without_javascript_redraws_the_form(owner, book):
    data = form_data(
        owner.browser, "/segments/new/", name="Draft", **{"condition-op": "add_group:r"}
    )
    response = owner.browser.post("/segments/new/", data)
    html = response.content.decode()
    assert response.status_code == 200 and 'name="condition-r_1-kind"' in html
    assert 'value="Draft"' in html and not Segment.objects.exists()


def test_editing_changes_the_condition_and_keeps_the_kind(owner, book):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    data = form_data(owner.browser, f"{detail(segment)}edit/", name="Enterprise", kind="static")
    data["condition-r_0-field"], data["condition-r_0-op"], data["condition-r_0-value"] = (
        "attributes.plan", "eq", "enterprise",
    )  # fmt: skip
    data["condition-r_0-was"] = "attributes.plan"
    assert owner.browser.post(f"{detail(segment)}edit/", data).status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.kind, segment.condition) == (
        "Enterprise",
        "dynamic",
        {"all": [ENTERPRISE]},
    )
    assert segment.member_count == 4


def test_a_viewer_cannot_create_or_change_segments(viewer, owner, book):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    assert viewer.browser.get("/segments/new/").status_code == 403
    assert viewer.browser.post("/segments/new/", {"name": "X", "kind": "static"}).status_code == 403
    assert viewer.browser.get(f"{detail(segment)}edit/").status_code == 403
    assert viewer.browser.post(f"{detail(segment)}delete/").status_code == 403
    assert "Edit</a>" not in viewer.browser.get(detail(segment)).content.decode()
    assert Segment.objects.count() == 1


def test_a_contributor_makes_private_segments_and_cannot_share(contributor, book):
    html = contributor.browser.get("/segments/new/").content.decode()
    assert 'value="shared" disabled' in html
    data = form_data(contributor.browser, "/segments/new/?kind=static", name="Mine")
    assert contributor.browser.post("/segments/new/", data).status_code == 302
    assert Segment.objects.get(name="Mine").is_private


def test_the_live_count_refuses_a_segment_naming_itself_under_its_row(owner, book):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    data = form_data(owner.browser, f"{detail(segment)}edit/")
    data["condition-r_0-field"] = data["condition-r_0-was"] = "segment"
    data["condition-r_0-op"] = "in"
    data.setlist("condition-r_0-value", [str(segment.pk)])
    data["cb-prefix"] = "condition"
    html = owner.browser.post(f"{detail(segment)}conditions/count/", data).content.decode()
    assert re.search(
        r'id="condition-r_0-error"[^>]*>Value: a segment may not refer to itself', html
    )
    other = owner.browser.post("/segments/conditions/count/", data).content.decode()
    assert 'data-count="4"' in other  # a new segment may name it


def test_the_builder_names_segments_the_actor_sees(owner, practitioner, book):
    mine = shared(owner, "Shared one", {"all": [PAYING]})
    create_segment(practitioner.actor, {"name": "Their secret", "condition": {"all": []}})
    condition = {"all": [{"field": "segment", "op": "in", "value": [mine.pk]}]}
    html = owner.browser.get(
        f"/segments/new/?where={quote(json.dumps(condition))}"
    ).content.decode()
    assert f'value="{mine.pk}" data-label="Shared one" checked' in html
    assert "Their secret" not in html


# --- deleting ----------------------------------------------------------------------------------


def test_deleting_a_segment(owner, book):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    assert "4 memberships" in owner.browser.get(f"{detail(segment)}delete/").content.decode()
    response = owner.browser.post(f"{detail(segment)}delete/")
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Segment.objects.exists() and not SegmentMember.objects.exists()


def test_a_segment_another_one_names_cannot_be_deleted(owner, book):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    shared(
        owner,
        "Paying enterprise",
        {"all": [{"field": "segment", "op": "in", "value": [segment.pk]}, ENTERPRISE]},
    )
    page = owner.browser.get(f"{detail(segment)}delete/").content.decode()
    assert "used in the condition of segment &#x27;Paying enterprise&#x27;" in page
    response = owner.browser.post(f"{detail(segment)}delete/")
    assert response.status_code == 422 and Segment.objects.filter(pk=segment.pk).exists()


# --- a static segment's accounts ---------------------------------------------------------------


def test_adding_accounts_by_hand_and_by_external_ids(owner, book):
    segment = shared(owner, "Watchlist")
    owner.browser.post(f"{detail(segment)}accounts/add/", {"account_id": book["acme"].pk})
    response = owner.browser.post(
        f"{detail(segment)}accounts/add/", {"external_ids": "globex\nacme, nope"}, follow=True
    )
    html = response.content.decode()
    assert "Added 1 account; 1 was in it already." in html
    assert "1 could not be added: no account has external id &#x27;nope&#x27;." in html
    assert members(html) == {"acme", "globex"}
    change = SegmentChange.objects.filter(segment=segment).latest("id")
    assert (change.source, change.member) == ("member", owner.member)


def test_finding_accounts_offers_those_not_in_the_segment(owner, book):
    segment = shared(owner, "Watchlist")
    add_accounts(owner.actor, segment, external_ids=["acme"])
    html = owner.browser.get(f"{detail(segment)}accounts/find/", {"q": "a"}).content.decode()
    names = re.findall(r'<span class="found-name">([^<]+) <', html)
    assert names == ["Stark", "Umbrella", "Wayne"]  # Acme is in it already


def test_removing_a_member(owner, book):
    segment = shared(owner, "Watchlist")
    add_accounts(owner.actor, segment, external_ids=["acme", "globex"])
    html = owner.browser.get(detail(segment)).content.decode()
    assert (
        '<button type="submit" class="btn btn-sm btn-ghost" title="Remove: Acme">Remove</button>'
        in html
    )
    response = owner.browser.post(
        f"{detail(segment)}accounts/remove/",
        {"account_id": book["acme"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Redirect"] == detail(segment)
    assert set(SegmentMember.objects.values_list("account__external_id", flat=True)) == {"globex"}


def test_a_dynamic_segment_has_no_add_or_remove(owner, book):
    segment = shared(owner, "Paying", {"all": [PAYING]})
    html = owner.browser.get(detail(segment)).content.decode()
    assert "Add accounts" not in html and ">Remove</button>" not in html
    response = owner.browser.post(
        f"{detail(segment)}accounts/add/", {"account_id": book["wayne"].pk}, follow=True
    )
    assert (
        "Nothing was added: accounts are added to static segments only" in response.content.decode()
    )


def test_a_practitioner_cannot_change_anothers_private_list_nor_a_viewer_a_shared_one(
    owner, viewer, book
):
    segment = shared(owner, "Watchlist")
    assert (
        viewer.browser.post(
            f"{detail(segment)}accounts/add/", {"account_id": book["acme"].pk}
        ).status_code
        == 403
    )
    assert viewer.browser.get(f"{detail(segment)}accounts/find/", {"q": "a"}).status_code == 403
    practitioner = make_persona(owner.workspace, Seat.PRACTITIONER, "p2@acme.test")
    private = create_segment(owner.actor, {"name": "Mine", "kind": "static"})
    assert (
        practitioner.browser.post(f"{detail(private)}accounts/add/", {"account_id": 1}).status_code
        == 404
    )
    assert not SegmentMember.objects.exists()


def test_the_members_export_with_the_list_s_columns(owner, book):
    segment = shared(owner, "Paying enterprise", {"all": [PAYING, ENTERPRISE]})
    html = owner.browser.get(detail(segment)).content.decode()
    assert f'href="/segments/{segment.pk}/export/?format=csv"' in html
    response = owner.browser.get(f"{detail(segment)}export/", {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Name,External id")
    assert [line.split(",")[0] for line in lines[1:]] == ["Acme", "Initech"]
    bad = owner.browser.get(f"{detail(segment)}export/", {"format": "pdf"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"


def test_the_change_in_7_days_counts_from_when_the_day_a_week_ago_began(
    owner, book, workspace
):
    segment = shared(owner, "List")
    today = local_day(workspace, timezone.now())
    # The last count before the week (1) is the base, not the count at the end of its first day (5).
    for days, count in ((8, 1), (7, 5)):
        SegmentCount.objects.create(
            workspace=workspace,
            segment=segment,
            day=today - datetime.timedelta(days=days),
            members=count,
        )
    add_accounts(owner.actor, segment, external_ids=["acme", "globex", "initech"])
    html = owner.browser.get(detail(segment)).content.decode()
    stats = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index('class="segment-stats"') :])
    )
    assert "Change in 7 days +2 Entered, 7 days 3 Left, 7 days 0" in stats
    assert '<span class="change-up">+2</span>' in owner.browser.get(LIST).content.decode()
