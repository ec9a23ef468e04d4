"""Filters other apps add to the accounts list (the ``ListFilter`` extension point), and the
list's own attribute filter built on it: shown in the filter bar, kept in the query string by
every link, applied to the accounts."""

import re

import pytest
from django import forms

from tend.accounts import extensions
from tend.accounts.actions.accounts import create_account
from tend.accounts.extensions import ListFilter, add_list_filter, list_filters
from tend.accounts.models import AttributeDefinition, AttributeType

pytestmark = pytest.mark.django_db
URL = "/accounts/"


@pytest.fixture
def accounts(owner, workspace):
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type=AttributeType.ENUM,
        options=["Gold", "Silver"],
        position=0,
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="region", label="Region", type=AttributeType.TEXT, position=1
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="vip", label="VIP", type=AttributeType.BOOLEAN, position=2
    )
    rows = {
        "gold-vip": {"plan": "Gold", "vip": True, "region": "EMEA"},
        "gold": {"plan": "Gold", "vip": False, "region": "Americas: North"},
        "silver": {"plan": "Silver"},
        "bare": {},
    }
    for key, attributes in rows.items():
        create_account(owner.actor, {"external_id": key, "name": key, "attributes": attributes})


def listed(html: str) -> set[str]:
    return set(re.findall(r'<span class="mono" title="External id">([^<]+)</span>', html))


def field_html(html: str, name: str) -> str:
    start = html.index(f'<select name="{name}"')
    return html[start : html.index("</select>", start)]


@pytest.fixture
def letter_filter():
    """Another app's filter: accounts whose name starts with a letter."""

    def field(workspace, current):
        return forms.ChoiceField(
            label="Letter", choices=[("", "Any letter"), ("g", "G"), ("s", "S")]
        )

    add_list_filter(
        ListFilter(
            key="letter",
            field=field,
            apply=lambda queryset, value: queryset.filter(name__startswith=value),
            position=50,
        )
    )
    yield
    extensions._filters.pop("letter")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("plan:Gold", {"gold-vip", "gold"}),
        ("plan:Silver", {"silver"}),
        ("plan:", {"bare"}),
        ("vip:true", {"gold-vip"}),
        ("vip:false", {"gold"}),
        ("vip:", {"silver", "bare"}),
        ("region:EMEA", {"gold-vip"}),
        ("region:Americas: North", {"gold"}),  # only the first colon separates
        ("region:", {"silver", "bare"}),
    ],
)
def test_the_attribute_filter_keeps_accounts_with_a_value_or_none(owner, accounts, value, expected):
    html = owner.browser.get(URL, {"attr": value}).content.decode()
    assert listed(html) == expected


def test_the_attribute_menu_lists_the_values_of_list_and_yes_no_attributes(owner, accounts):
    menu = field_html(owner.browser.get(URL).content.decode(), "attr")
    assert '<option value="" selected>Any attribute</option>' in menu
    assert re.findall(r'<optgroup label="([^"]+)">', menu) == ["Plan", "VIP"]
    assert re.findall(r'<option value="([^"]*)"', menu) == [
        "",
        "plan:Gold",
        "plan:Silver",
        "plan:",
        "vip:true",
        "vip:false",
        "vip:",
    ]
    assert ">Plan: no value</option>" in menu and ">VIP: yes</option>" in menu


def test_a_text_value_from_a_link_is_offered_while_it_is_in_the_address(owner, accounts):
    menu = field_html(owner.browser.get(URL, {"attr": "region:EMEA"}).content.decode(), "attr")
    assert '<optgroup label="Region">' in menu
    assert '<option value="region:EMEA" selected>Region: EMEA</option>' in menu


@pytest.mark.parametrize("value", ["nope:x", "plan", "vip:maybe", "website:x"])
def test_an_attribute_value_that_names_nothing_is_ignored(owner, accounts, value):
    html = owner.browser.get(URL, {"attr": value}).content.decode()
    assert len(listed(html)) == 4
    assert "Clear filters" not in html


def test_links_of_the_list_keep_the_attribute_filter(owner, accounts):
    html = owner.browser.get(URL, {"attr": "plan:Gold"}).content.decode()
    assert 'href="/accounts/?attr=plan%3AGold&amp;sort=-updated"' in html
    response = owner.browser.get(URL, {"attr": "plan:Gold", "q": "vip"}, HTTP_HX_REQUEST="true")
    assert response["HX-Push-Url"] == "/accounts/?q=vip&attr=plan%3AGold"
    assert listed(response.content.decode()) == {"gold-vip"}


def test_without_list_or_yes_no_attributes_there_is_no_attribute_menu(owner):
    create_account(owner.actor, {"external_id": "a", "name": "A"})
    html = owner.browser.get(URL).content.decode()
    assert 'name="attr"' not in html


def test_a_filter_another_app_adds_shows_before_the_sort_and_applies(
    owner, accounts, letter_filter
):
    html = owner.browser.get(URL, {"letter": "g"}).content.decode()
    fields = re.findall(r'<select name="(\w+)"', html)
    # After the list's own filters, by position (the attribute filter's is 90), the sort last.
    assert fields.index("tag") < fields.index("letter") < fields.index("attr")
    assert fields[-1] == "sort"
    assert listed(html) == {"gold-vip", "gold"}
    assert '<option value="g" selected>G</option>' in html
    assert 'href="/accounts/?letter=g&amp;sort=-updated"' in html


def test_filters_combine_with_each_other_and_with_the_lists_own(owner, accounts, letter_filter):
    html = owner.browser.get(URL, {"letter": "g", "attr": "vip:true", "q": "gold"}).content.decode()
    assert listed(html) == {"gold-vip"}


def test_a_filter_may_not_take_a_parameter_the_list_uses(letter_filter):
    with pytest.raises(ValueError, match="already uses"):
        add_list_filter(ListFilter(key="status", field=lambda w, c: None, apply=lambda q, v: q))
    assert [f.key for f in list_filters()].count("letter") == 1
