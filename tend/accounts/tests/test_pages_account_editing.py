"""Changing accounts from the web app: inline attributes, the edit page, create and delete."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.models import (
    Account,
    AssignmentRole,
    AttributeDefinition,
    Stage,
    StageChange,
)
from tend.test import make_member

HTMX = {"HX-Request": "true"}


@pytest.fixture
def defs(workspace):
    specs = [
        ("plan", "enum", ["Gold", "Silver"]),
        ("arr", "currency", []),
        ("seats", "number", []),
        ("renewal", "date", []),
        ("sso", "boolean", []),
        ("regions", "multi_enum", ["EMEA", "NA", "APAC"]),
        ("website", "url", []),
        ("notes", "text", []),
    ]
    return {
        key: AttributeDefinition.objects.create(
            workspace=workspace, key=key, label=key.title(), type=kind, options=options, position=i
        )
        for i, (key, kind, options) in enumerate(specs)
    }


@pytest.fixture
def account(owner, workspace, defs):
    Stage.objects.create(workspace=workspace, name="Onboarding", position=0)
    Stage.objects.create(workspace=workspace, name="Adoption", position=1)
    AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    return create_account(
        owner.actor,
        {
            "external_id": "acme",
            "name": "Acme",
            "attributes": {"plan": "Gold", "seats": 10, "sso": True},
        },
    )


def attr_url(account, definition, edit=False):
    return f"/accounts/{account.pk}/attributes/{definition.pk}/" + ("edit/" if edit else "")


def attributes_of(account) -> dict:
    return Account.objects.get(pk=account.pk).attributes


# --- Inline attribute editing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("plan", ['<select name="value"', '<option value="Gold" selected>']),
        ("arr", ['type="number"', 'step="any"']),
        ("seats", ['type="number"', 'value="10"']),
        ("renewal", ['type="date"']),
        ("sso", ['type="checkbox"', "checked"]),
        ("regions", ['type="checkbox" name="value" value="EMEA"', 'value="APAC"']),
        ("website", ['type="url"']),
        ("notes", ['type="text"']),
    ],
)
def test_the_inline_editor_offers_an_input_of_the_attributes_type(
    owner, account, defs, key, expected
):
    response = owner.browser.get(attr_url(account, defs[key], edit=True), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<form")
    for fragment in expected:
        assert fragment in html
    assert "Save" in html and "Cancel" in html


@pytest.mark.parametrize(
    ("key", "posted", "stored"),
    [
        ("plan", "Silver", "Silver"),
        ("arr", "1,250.50", 1250.5),
        ("seats", "42", 42),
        ("renewal", "2027-06-30", "2027-06-30"),
        ("regions", ["EMEA", "APAC"], ["EMEA", "APAC"]),
        ("website", "https://acme.example", "https://acme.example"),
        ("notes", "Champion left in May", "Champion left in May"),
    ],
)
def test_a_good_value_is_saved_and_the_row_comes_back(owner, account, defs, key, posted, stored):
    response = owner.browser.post(attr_url(account, defs[key]), {"value": posted}, headers=HTMX)
    assert response.status_code == 200
    assert attributes_of(account)[key] == stored
    html = response.content.decode()
    assert f'id="attr-{defs[key].pk}"' in html and "Saved" in html


def test_an_unchecked_checkbox_saves_false(owner, account, defs):
    response = owner.browser.post(attr_url(account, defs["sso"]), {}, headers=HTMX)
    assert response.status_code == 200
    assert attributes_of(account)["sso"] is False


def test_an_emptied_value_unsets_the_attribute(owner, account, defs):
    owner.browser.post(attr_url(account, defs["plan"]), {"value": ""}, headers=HTMX)
    assert "plan" not in attributes_of(account)


@pytest.mark.parametrize(
    ("key", "posted", "message"),
    [
        ("seats", "lots", "expected a number"),
        ("renewal", "next spring", "expected a date as YYYY-MM-DD"),
        ("plan", "Platinum", "is not one of the options"),
        ("regions", ["EMEA", "Mars"], "is not one of the options"),
        ("website", "javascript:alert(1)", "expected a web address"),
    ],
)
def test_a_bad_value_is_refused_beside_the_field_and_nothing_is_saved(
    owner, account, defs, key, posted, message
):
    before = attributes_of(account)
    response = owner.browser.post(attr_url(account, defs[key]), {"value": posted}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith("<form")
    assert 'class="errorlist"' in html and message in html
    assert attributes_of(account) == before


def test_a_required_attribute_cannot_be_emptied(owner, account, defs):
    AttributeDefinition.objects.filter(pk=defs["plan"].pk).update(required=True)
    response = owner.browser.post(attr_url(account, defs["plan"]), {"value": ""}, headers=HTMX)
    assert response.status_code == 422 and "is required" in response.content.decode()
    assert attributes_of(account)["plan"] == "Gold"


def test_without_htmx_a_save_redirects_to_the_profile_with_a_message(owner, account, defs):
    response = owner.browser.post(attr_url(account, defs["notes"]), {"value": "Hello"})
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Notes saved."]
    page = owner.browser.get(attr_url(account, defs["notes"], edit=True))
    assert "<html" in page.content.decode()  # the editor works as a page without JavaScript


def test_cancel_shows_the_value_row_again(owner, account, defs):
    response = owner.browser.get(attr_url(account, defs["plan"]), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "Gold" in html and "<form" not in html


def test_an_attribute_of_end_users_cannot_be_edited_on_an_account(owner, account, workspace):
    user_attr = AttributeDefinition.objects.create(
        workspace=workspace, object_type="user", key="role", label="Role"
    )
    assert owner.browser.post(attr_url(account, user_attr), {"value": "x"}).status_code == 404


def test_a_viewer_cannot_edit_an_attribute(viewer, account, defs):
    assert viewer.browser.get(attr_url(account, defs["plan"], edit=True)).status_code == 403
    assert (
        viewer.browser.post(attr_url(account, defs["plan"]), {"value": "Silver"}).status_code == 403
    )
    assert attributes_of(account)["plan"] == "Gold"


def test_a_contributor_edits_an_assigned_account_but_not_another(owner, contributor, account, defs):
    other = create_account(owner.actor, {"external_id": "other", "name": "Other"})
    update_account(
        owner.actor, account, {"assignments": {"success_manager": contributor.member.user.email}}
    )
    ok = contributor.browser.post(
        attr_url(account, defs["plan"]), {"value": "Silver"}, headers=HTMX
    )
    assert ok.status_code == 200 and attributes_of(account)["plan"] == "Silver"
    refused = contributor.browser.post(
        attr_url(other, defs["plan"]), {"value": "Silver"}, headers=HTMX
    )
    assert refused.status_code == 403 and attributes_of(other) == {}
    assert contributor.browser.post(f"/accounts/{other.pk}/edit/", {"name": "X"}).status_code == 403


# --- The edit page -------------------------------------------------------------------------


def edit_data(**changes):
    data = {
        "name": "Acme",
        "external_id": "acme",
        "status": "trial",
        "stage": "",
        "parent_external_id": "",
        "tags": "",
    }
    data.update(changes)
    return data


def test_the_edit_page_changes_name_status_stage_tags_and_owners(owner, account, workspace):
    csm = make_member(workspace, "practitioner", "csm@acme.test", "Cat Manager")
    role = AssignmentRole.objects.get(workspace=workspace, key="success_manager")
    stage = Stage.objects.get(workspace=workspace, name="Adoption")
    form = owner.browser.get(f"/accounts/{account.pk}/edit/")
    assert form.status_code == 200 and f'name="role_{role.pk}"' in form.content.decode()
    data = edit_data(
        name="Acme Inc",
        status="paying",
        stage=stage.pk,
        tags="vip, emea",
        **{f"role_{role.pk}": csm.pk},
    )
    response = owner.browser.post(f"/accounts/{account.pk}/edit/", data)
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    account.refresh_from_db()
    assert (account.name, account.status, account.stage_id) == ("Acme Inc", "paying", stage.pk)
    assert sorted(t.name for t in account.tags.all()) == ["emea", "vip"]
    assert account.assignments.get().member == csm
    assert StageChange.objects.filter(account=account, to_stage=stage).exists()
    assert "Account Acme Inc saved." in [str(m) for m in get_messages(response.wsgi_request)]


def test_the_edit_page_shows_an_actions_error_beside_its_field_and_saves_nothing(owner, account):
    create_account(owner.actor, {"external_id": "taken", "name": "Taken"})
    response = owner.browser.post(
        f"/accounts/{account.pk}/edit/", edit_data(name="Renamed", external_id="taken")
    )
    assert response.status_code == 422
    html = response.content.decode()
    field = html.split('for="id_external_id"')[1].split("</div>\n")[1]
    assert "another account already has external id" in html and "errorlist" in field
    account.refresh_from_db()
    assert account.name == "Acme"


def test_a_parent_that_would_make_a_cycle_is_refused_on_the_parent_field(owner, account):
    create_account(owner.actor, {"external_id": "kid", "name": "Kid", "parent_external_id": "acme"})
    response = owner.browser.post(
        f"/accounts/{account.pk}/edit/", edit_data(parent_external_id="kid")
    )
    assert response.status_code == 422 and "would make a cycle" in response.content.decode()
    account.refresh_from_db()
    assert account.parent_id is None


def test_a_missing_name_is_shown_beside_the_name_field(owner, account):
    response = owner.browser.post(f"/accounts/{account.pk}/edit/", edit_data(name=""))
    assert response.status_code == 422 and "This field is required." in response.content.decode()


def test_a_viewer_cannot_open_or_post_the_edit_page(viewer, account):
    assert viewer.browser.get(f"/accounts/{account.pk}/edit/").status_code == 403
    assert (
        viewer.browser.post(
            f"/accounts/{account.pk}/edit/", edit_data(name="Viewer was here")
        ).status_code
        == 403
    )
    account.refresh_from_db()
    assert account.name == "Acme"


# --- Create and delete ----------------------------------------------------------------------


def test_a_writer_creates_an_account_and_lands_on_its_profile(practitioner, workspace, defs):
    Stage.objects.create(workspace=workspace, name="Onboarding")
    response = practitioner.browser.post(
        "/accounts/new/", {"name": "Newco", "external_id": "new-1", "status": "paying", "stage": ""}
    )
    account = Account.objects.get(workspace=workspace, external_id="new-1")
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    assert account.status == "paying"


def test_creating_asks_for_required_attributes_and_reports_a_duplicate_external_id(
    owner, workspace, defs
):
    AttributeDefinition.objects.filter(pk=defs["plan"].pk).update(required=True)
    form = owner.browser.get("/accounts/new/").content.decode()
    assert 'name="attr_plan"' in form
    create_account(
        owner.actor, {"external_id": "dup", "name": "First", "attributes": {"plan": "Gold"}}
    )
    response = owner.browser.post(
        "/accounts/new/",
        {"name": "Second", "external_id": "dup", "status": "trial", "attr_plan": "Gold"},
    )
    assert (
        response.status_code == 422
        and "another account already has external id" in response.content.decode()
    )
    response = owner.browser.post(
        "/accounts/new/", {"name": "Third", "external_id": "third", "status": "trial"}
    )
    assert response.status_code == 422 and "is required" in response.content.decode()
    assert not Account.objects.filter(external_id__in=["third"]).exists()
    assert Account.objects.filter(external_id="dup").count() == 1


@pytest.mark.parametrize("persona", ["viewer", "contributor"])
def test_only_writers_may_create_accounts(request, persona, workspace):
    who = request.getfixturevalue(persona)
    assert who.browser.get("/accounts/new/").status_code == 403
    response = who.browser.post(
        "/accounts/new/", {"name": "X", "external_id": "x", "status": "trial"}
    )
    assert response.status_code == 403
    assert not Account.objects.filter(workspace=workspace).exists()


def test_delete_asks_for_confirmation_then_deletes(owner, account):
    confirm = owner.browser.get(f"/accounts/{account.pk}/delete/")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert Account.objects.filter(pk=account.pk).exists()
    response = owner.browser.post(f"/accounts/{account.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/accounts/"
    assert not Account.objects.filter(pk=account.pk).exists()
    assert "Account Acme deleted." in [str(m) for m in get_messages(response.wsgi_request)]


def test_viewers_and_assigned_contributors_cannot_delete(viewer, contributor, owner, account):
    update_account(
        owner.actor, account, {"assignments": {"success_manager": contributor.member.user.email}}
    )
    for persona in (viewer, contributor):
        assert persona.browser.post(f"/accounts/{account.pk}/delete/").status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()


def test_writes_without_a_csrf_token_are_refused(owner, account, defs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post(f"/accounts/{account.pk}/delete/").status_code == 403
    assert client.post(attr_url(account, defs["plan"]), {"value": "Silver"}).status_code == 403
    assert (
        Account.objects.filter(pk=account.pk).exists() and attributes_of(account)["plan"] == "Gold"
    )


def test_only_get_and_post_are_answered(owner, account):
    assert owner.browser.put(f"/accounts/{account.pk}/edit/").status_code == 405
    assert owner.browser.delete(f"/accounts/{account.pk}/").status_code == 405


def test_an_empty_post_is_a_form_error_not_a_silent_page(owner, account):
    response = owner.browser.post(f"/accounts/{account.pk}/edit/", {})
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Acme"
