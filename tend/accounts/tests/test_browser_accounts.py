"""The accounts pages in real Chromium: live search, inline editing, what a viewer sees."""

import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account, AttributeDefinition, Stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accounts(owner, workspace):
    Stage.objects.create(workspace=workspace, name="Onboarding")
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type="enum",
        options=["Gold", "Silver"],
        position=0,
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="seats", label="Seats", type="number", position=1
    )
    made = {}
    for external_id, name, status in [
        ("acme", "Acme Corp", "paying"),
        ("globex", "Globex", "trial"),
        ("initech", "Initech", "churned"),
        ("umbrella", "Umbrella", "paying"),
    ]:
        made[external_id] = create_account(
            owner.actor,
            {
                "external_id": external_id,
                "name": name,
                "status": status,
                "attributes": {"plan": "Gold"},
            },
        )
    return made


def table_names(page) -> list[str]:
    return page.locator("#account-results td.account-name a").all_inner_texts()


def test_typing_in_search_updates_the_table_in_place_and_the_address(owner, accounts, login):
    page = login(owner)
    page.goto("/accounts/")
    assert table_names(page) == ["Acme Corp", "Globex", "Initech", "Umbrella"]
    # A marker on the window survives only if the page is not reloaded.
    page.evaluate("window.__stayed = true")
    page.fill("input[name=q]", "glob")
    page.wait_for_url("**/accounts/?q=glob")
    page.wait_for_function(
        "document.querySelectorAll('#account-results td.account-name').length === 1"
    )
    assert table_names(page) == ["Globex"]
    assert page.evaluate("window.__stayed") is True

    page.fill("input[name=q]", "")
    page.wait_for_function(
        "document.querySelectorAll('#account-results td.account-name').length === 4"
    )
    page.select_option("select[name=status]", "paying")
    page.wait_for_url("**/accounts/?status=paying")
    page.wait_for_function(
        "document.querySelectorAll('#account-results td.account-name').length === 2"
    )
    assert table_names(page) == ["Acme Corp", "Umbrella"]
    assert page.evaluate("window.__stayed") is True

    # The pushed address renders the same page when loaded afresh.
    page.reload()
    assert table_names(page) == ["Acme Corp", "Umbrella"]
    assert page.locator("select[name=status]").input_value() == "paying"


def test_clicking_a_column_header_sorts_and_keeps_the_sort_select_in_step(owner, accounts, login):
    page = login(owner)
    page.goto("/accounts/")
    page.locator("#account-results th a", has_text="Name").click()
    page.wait_for_url("**/accounts/?sort=-name")
    page.wait_for_function(
        "document.querySelector('#account-results td.account-name a').textContent === 'Umbrella'"
    )
    assert page.locator("select[name=sort]").input_value() == "-name"


def test_an_attribute_is_edited_inline_and_still_there_after_a_reload(owner, accounts, login):
    account = accounts["acme"]
    seats = AttributeDefinition.objects.get(key="seats")
    page = login(owner)
    page.goto(f"/accounts/{account.pk}/")
    row = f"#attr-{seats.pk}"
    page.locator(row).get_by_role("link", name="Edit Seats").click()
    page.wait_for_selector(f"form{row} input[type=number]")

    # A bad value (typed around the browser's own number check) is refused beside the field.
    page.locator(f"form{row} input[name=value]").evaluate(
        "el => { el.type = 'text'; el.value = 'lots'; }"
    )
    page.locator(f"form{row}").get_by_role("button", name="Save").click()
    page.wait_for_selector(f"form{row} .errorlist")
    assert "expected a number" in page.locator(f"form{row} .errorlist").inner_text()
    assert "seats" not in Account.objects.get(pk=account.pk).attributes

    page.locator(f"form{row} input[name=value]").fill("250")
    page.locator(f"form{row}").get_by_role("button", name="Save").click()
    page.wait_for_selector(f"div{row}")
    assert "250" in page.locator(row).inner_text()

    page.reload()
    assert "250" in page.locator(row).inner_text()
    assert Account.objects.get(pk=account.pk).attributes["seats"] == 250


def test_cancel_puts_the_value_back_without_saving(owner, accounts, login):
    account = accounts["acme"]
    plan = AttributeDefinition.objects.get(key="plan")
    page = login(owner)
    page.goto(f"/accounts/{account.pk}/")
    row = f"#attr-{plan.pk}"
    page.locator(row).get_by_role("link", name="Edit Plan").click()
    page.select_option(f"form{row} select", "Silver")
    page.locator(f"form{row}").get_by_role("link", name="Cancel").click()
    page.wait_for_selector(f"div{row}")
    assert "Gold" in page.locator(row).inner_text()
    assert Account.objects.get(pk=account.pk).attributes["plan"] == "Gold"


def test_a_viewer_sees_no_edit_buttons(viewer, accounts, login):
    page = login(viewer)
    page.goto("/accounts/")
    assert page.get_by_role("link", name="New account").count() == 0
    page.goto(f"/accounts/{accounts['acme'].pk}/")
    assert page.locator("h1").inner_text() == "Acme Corp"
    assert page.get_by_text("Edit", exact=True).count() == 0
    assert page.get_by_role("link", name="Edit account").count() == 0
    assert page.get_by_role("link", name="Delete").count() == 0
    assert page.locator(".attr-row").count() == 2
