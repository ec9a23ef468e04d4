"""The account profile page: header, attributes, hierarchy, people, stage history, access."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts import extensions
from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.models import (
    Account,
    AssignmentRole,
    AttributeDefinition,
    Contact,
    EndUser,
    Stage,
)
from tend.test import make_member


@pytest.fixture(autouse=True)
def _only_the_profiles_own_sections(monkeypatch):
    """These tests are about the accounts app's own sections; panels other apps add (and the
    sections they replace, such as usage's end users) are tested with those apps."""
    monkeypatch.setattr(extensions, "_panels", {})


@pytest.fixture
def account(owner, workspace):
    Stage.objects.create(workspace=workspace, name="Onboarding", position=0)
    Stage.objects.create(workspace=workspace, name="Adoption", position=1)
    AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    AssignmentRole.objects.create(
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
        workspace=workspace, key="arr", label="Contract value", type="currency", position=1
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="notes", label="Notes", type="text", position=2
    )
    csm = make_member(workspace, "practitioner", "carla@acme.test", "Carla Success")
    actor = owner.actor
    group = create_account(actor, {"external_id": "grp", "name": "Acme Group"})
    holding = create_account(
        actor, {"external_id": "hold", "name": "Acme Holding", "parent_external_id": "grp"}
    )
    acme = create_account(
        actor,
        {
            "external_id": "acme-1",
            "name": "Acme Corp",
            "status": "paying",
            "parent_external_id": "hold",
            "stage": "Onboarding",
            "tags": ["enterprise"],
            "attributes": {"plan": "Gold", "arr": 250000},
            "assignments": {"success_manager": csm.user.email},
        },
    )
    update_account(actor, acme, {"stage": "Adoption"})
    Account.objects.filter(pk=acme.pk).update(
        stage_entered_at=timezone.now() - datetime.timedelta(days=12)
    )
    for i in range(3):
        create_account(
            actor,
            {
                "external_id": f"child-{i}",
                "name": f"Acme Branch {i}",
                "parent_external_id": "acme-1",
            },
        )
    acme.refresh_from_db()
    acme.group, acme.holding, acme.csm = group, holding, csm
    return acme


def profile(persona, account, **params):
    return persona.browser.get(f"/accounts/{account.pk}/", params)


def test_the_header_shows_name_status_stage_with_days_owners_tags_and_the_parent_chain(
    owner, account
):
    response = profile(owner, account)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Acme Corp</h1>" in html
    assert '<span class="badge badge-paying">Paying</span>' in html
    assert "acme-1" in html
    assert "Adoption" in html and "for 12 days" in html
    assert "Success Manager:</span> Carla Success" in html
    assert '<span class="tag">enterprise</span>' in html
    breadcrumb = html.split('class="breadcrumbs"')[1].split("</div>")[0]
    assert breadcrumb.index("Acme Group") < breadcrumb.index("Acme Holding")
    assert f'href="/accounts/{account.holding.pk}/"' in breadcrumb


def test_the_attributes_panel_lists_every_definition_with_its_value(owner, account):
    html = profile(owner, account).content.decode()
    panel = html.split('id="attributes"')[1].split("</section>")[0]
    assert "Plan" in panel and "Gold" in panel
    assert "Contract value" in panel and "250,000" in panel
    assert "Notes" in panel  # unset, still listed so it can be filled in
    assert panel.count('class="attr-row') == 3


def test_children_are_listed_and_linked(owner, account):
    html = profile(owner, account).content.decode()
    children = html.split('id="children"')[1].split("</section>")[0]
    assert all(f"Acme Branch {i}" in children for i in range(3))
    child = Account.objects.get(external_id="child-0")
    assert f'href="/accounts/{child.pk}/"' in children


def test_end_users_are_paginated_most_recent_first(owner, account, workspace):
    now = timezone.now()
    EndUser.objects.bulk_create(
        [
            EndUser(
                workspace=workspace,
                external_id=f"u{i:02}",
                account=account,
                name=f"User {i:02}",
                email=f"u{i}@acme.test",
                created_at=now - datetime.timedelta(days=i),
            )
            for i in range(25)
        ]
    )
    first = (
        profile(owner, account).content.decode().split('id="end-users"')[1].split("</section>")[0]
    )
    assert first.index("User 00") < first.index("User 01")
    assert "User 10" not in first and "u0@acme.test" in first
    assert "?users_page=2" in first
    third = (
        profile(owner, account, users_page=3)
        .content.decode()
        .split('id="end-users"')[1]
        .split("</section>")[0]
    )
    assert "User 20" in third and "User 24" in third and "User 19" not in third


def test_contacts_list_key_contacts_first_with_role_and_email(owner, account, workspace):
    Contact.objects.create(
        workspace=workspace, external_id="c1", account=account, name="Aaron Able", role="IT"
    )
    Contact.objects.create(
        workspace=workspace,
        external_id="c2",
        account=account,
        name="Zoe Zed",
        role="Economic buyer",
        email="zoe@acme.test",
        is_key_contact=True,
    )
    contacts = (
        profile(owner, account).content.decode().split('id="contacts"')[1].split("</section>")[0]
    )
    assert contacts.index("Zoe Zed") < contacts.index("Aaron Able")
    assert (
        "Key contact" in contacts and "Economic buyer" in contacts and "zoe@acme.test" in contacts
    )


def test_stage_history_lists_the_moves(owner, account):
    html = profile(owner, account).content.decode()
    history = html.split("Stage history")[1]
    assert "Onboarding → <strong>Adoption</strong>" in history
    assert owner.member.name in history  # who moved it


def test_a_writer_sees_edit_and_delete_controls(owner, account):
    html = profile(owner, account).content.decode()
    assert f"/accounts/{account.pk}/edit/" in html
    assert f"/accounts/{account.pk}/delete/" in html
    assert f"/accounts/{account.pk}/attributes/" in html


def test_a_viewer_sees_no_edit_controls(viewer, account):
    response = profile(viewer, account)
    html = response.content.decode()
    assert response.status_code == 200 and "Acme Corp" in html
    assert "/edit/" not in html and "/delete/" not in html
    assert f"/accounts/{account.pk}/attributes/" not in html
    assert ">Edit<" not in html


def test_a_contributor_sees_edit_controls_only_on_an_account_assigned_to_them(
    contributor, account, owner
):
    assert "/edit/" not in profile(contributor, account).content.decode()
    update_account(
        owner.actor, account, {"assignments": {"sales_manager": contributor.member.user.email}}
    )
    html = profile(contributor, account).content.decode()
    assert f"/accounts/{account.pk}/edit/" in html
    assert "/delete/" not in html  # deleting needs a full write seat


def test_the_profile_escapes_what_users_typed(owner, workspace):
    AttributeDefinition.objects.create(workspace=workspace, key="notes", label="<i>Notes</i>")
    evil = create_account(
        owner.actor,
        {
            "external_id": "x<y",
            "name": "<script>alert(1)</script>",
            "tags": ["<img src=x onerror=alert(2)>"],
            "attributes": {"notes": "<b>bold</b>"},
        },
    )
    html = profile(owner, evil).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<b>bold</b>" not in html and "<i>Notes</i>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_the_profile_query_count_is_bounded(
    owner, account, workspace, django_assert_max_num_queries
):
    EndUser.objects.bulk_create(
        [
            EndUser(workspace=workspace, external_id=f"u{i}", account=account, name=f"U{i}")
            for i in range(30)
        ]
    )
    Contact.objects.bulk_create(
        [
            Contact(workspace=workspace, external_id=f"c{i}", account=account, name=f"C{i}")
            for i in range(30)
        ]
    )
    profile(owner, account)  # log in and warm up
    with django_assert_max_num_queries(18):
        response = profile(owner, account, users_page=2, contacts_page=2)
    assert response.status_code == 200
    assert "U29" not in response.content.decode() and "U15" in response.content.decode()


def test_an_unknown_account_is_404(owner, db):
    assert owner.browser.get("/accounts/999999/").status_code == 404


ACCOUNT_URLS = [
    ("get", "/accounts/{id}/"),
    ("get", "/accounts/{id}/edit/"),
    ("post", "/accounts/{id}/edit/"),
    ("get", "/accounts/{id}/delete/"),
    ("post", "/accounts/{id}/delete/"),
    ("get", "/accounts/{id}/attributes/{attr}/"),
    ("post", "/accounts/{id}/attributes/{attr}/"),
    ("get", "/accounts/{id}/attributes/{attr}/edit/"),
]


@pytest.mark.parametrize(("method", "url"), ACCOUNT_URLS)
def test_an_outsider_gets_404_on_every_account_url_and_nothing_changes(
    outsider, account, method, url
):
    definition = AttributeDefinition.objects.get(workspace=account.workspace, key="notes")
    before = Account.objects.filter(pk=account.pk).values().get()
    data = {"name": "Hijacked", "external_id": "hijacked", "status": "churned", "value": "pwned"}
    response = getattr(outsider.browser, method)(
        url.format(id=account.pk, attr=definition.pk), data
    )
    assert response.status_code == 404
    assert Account.objects.filter(pk=account.pk).values().get() == before


def test_an_outsider_cannot_reach_an_attribute_of_their_own_workspace_through_our_account(
    outsider, account
):
    theirs = AttributeDefinition.objects.create(
        workspace=outsider.workspace, key="notes", label="Notes"
    )
    url = f"/accounts/{account.pk}/attributes/{theirs.pk}/edit/"
    assert outsider.browser.get(url).status_code == 404


def test_our_attribute_id_cannot_be_used_on_another_workspaces_account(owner, account, outsider):
    foreign = create_account(outsider.actor, {"external_id": "f1", "name": "Foreign"})
    ours = AttributeDefinition.objects.get(workspace=account.workspace, key="notes")
    assert (
        owner.browser.post(
            f"/accounts/{foreign.pk}/attributes/{ours.pk}/", {"value": "x"}
        ).status_code
        == 404
    )
    foreign.refresh_from_db()
    assert foreign.attributes == {}


def test_section_pagers_keep_the_other_parameters_of_the_page(owner, account, workspace):
    Contact.objects.bulk_create(
        [
            Contact(workspace=workspace, external_id=f"c{i}", account=account, name=f"C{i}")
            for i in range(30)
        ]
    )
    html = profile(owner, account, scope="children", contacts_page=2).content.decode()
    assert "?scope=children&amp;contacts_page=3" in html
    assert "?scope=children&amp;contacts_page=1" in html
