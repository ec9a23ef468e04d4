"""The data model pages: admins edit, others read, outsiders see nothing."""

import pytest

from tend.accounts.actions import definitions as actions
from tend.accounts.models import (
    Account,
    AccountTag,
    AssignmentRole,
    AttributeDefinition,
    Stage,
    Tag,
)


@pytest.fixture
def model(owner, workspace):
    """One of each definition, with an account using them."""
    definition = actions.create_attribute(
        owner.actor, {"key": "plan", "label": "Plan", "type": "enum", "options": ["Gold"]}
    )
    stage = actions.create_stage(owner.actor, {"name": "Onboarding"})
    role = actions.create_role(owner.actor, {"key": "csm", "name": "CSM"})
    tag = actions.create_tag(owner.actor, {"name": "VIP"})
    account = Account.objects.create(
        workspace=workspace, external_id="a", name="A", stage=stage, attributes={"plan": "Gold"}
    )
    AccountTag.objects.create(account=account, tag=tag)
    return {"attribute": definition, "stage": stage, "role": role, "tag": tag}


PAGES = [
    "/data-model/",
    "/data-model/attributes/user/",
    "/data-model/attributes/contact/",
    "/data-model/stages/",
    "/data-model/roles/",
    "/data-model/tags/",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_member_can_read_the_data_model(viewer, model, url, django_assert_max_num_queries):
    client = viewer.browser
    client.get(url)  # the first request saves the session; count a steady-state one
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200
    assert b"Data model" in response.content


def test_admins_see_edit_controls_and_viewers_do_not(owner, viewer, model):
    assert b"Add attribute" in owner.browser.get("/data-model/").content
    page = viewer.browser.get("/data-model/").content
    assert b"Plan" in page
    assert b"Add attribute" not in page and b"/edit/" not in page
    assert b"Add stage" not in viewer.browser.get("/data-model/stages/").content


def test_an_admin_creates_an_attribute_from_the_form(owner):
    response = owner.browser.post(
        "/data-model/",
        {
            "label": "Renewal date",
            "key": "renewal_date",
            "type": "date",
            "options": "",
            "description": "",
        },
    )
    assert response.status_code == 302
    definition = AttributeDefinition.objects.get(key="renewal_date")
    assert (definition.type, definition.object_type) == ("date", "account")


def test_an_enum_from_the_form_takes_one_option_per_line(owner):
    owner.browser.post(
        "/data-model/attributes/user/",
        {"label": "Role", "key": "role", "type": "enum", "options": "Admin\nEditor\n\n"},
    )
    assert AttributeDefinition.objects.get(key="role", object_type="user").options == [
        "Admin",
        "Editor",
    ]


def test_bad_input_shows_the_message_beside_the_field(owner, model):
    response = owner.browser.post("/data-model/", {"label": "Plan", "key": "plan", "type": "text"})
    assert response.status_code == 422
    assert b"already exists" in response.content
    assert AttributeDefinition.objects.count() == 1


def test_the_delete_page_says_how_many_values_will_go(owner, model, workspace):
    Account.objects.create(
        workspace=workspace, external_id="b", name="B", attributes={"plan": "Gold"}
    )
    url = f"/data-model/attributes/{model['attribute'].pk}/delete/"
    assert b"2 accounts have values for it" in owner.browser.get(url).content
    assert owner.browser.post(url).status_code == 302
    assert not AttributeDefinition.objects.exists()
    assert all("plan" not in a.attributes for a in Account.objects.all())


def test_stages_show_account_counts_and_move_up_and_down(owner, model):
    actions.create_stage(owner.actor, {"name": "Adoption"})
    page = owner.browser.get("/data-model/stages/").content.decode()
    assert "Onboarding" in page and "Adoption" in page
    adoption = Stage.objects.get(name="Adoption")
    owner.browser.post(f"/data-model/stages/{adoption.pk}/move/", {"direction": "up"})
    assert list(Stage.objects.order_by("position").values_list("name", flat=True)) == [
        "Adoption",
        "Onboarding",
    ]


def test_an_admin_edits_and_deletes_a_stage_role_and_tag(owner, model):
    stage, role, tag = model["stage"], model["role"], model["tag"]
    owner.browser.post(
        f"/data-model/stages/{stage.pk}/edit/",
        {"name": "Kick-off", "color": "#123456", "description": ""},
    )
    owner.browser.post(
        f"/data-model/roles/{role.pk}/edit/", {"name": "Success Manager", "key": "success_manager"}
    )
    owner.browser.post(
        f"/data-model/tags/{tag.pk}/edit/", {"name": "Strategic", "color": "#654321"}
    )
    stage.refresh_from_db()
    role.refresh_from_db()
    tag.refresh_from_db()
    assert (stage.name, stage.color, role.key, tag.name) == (
        "Kick-off",
        "#123456",
        "success_manager",
        "Strategic",
    )
    assert (
        b"1 account is in this stage"
        in owner.browser.get(f"/data-model/stages/{stage.pk}/delete/").content
    )
    for kind, obj in (("stages", stage), ("roles", role), ("tags", tag)):
        assert owner.browser.post(f"/data-model/{kind}/{obj.pk}/delete/").status_code == 302
    assert (
        not Stage.objects.exists()
        and not AssignmentRole.objects.exists()
        and not Tag.objects.exists()
    )


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/data-model/", {"label": "X", "key": "x", "type": "text"}),
        ("/data-model/stages/", {"name": "X"}),
        ("/data-model/roles/", {"name": "X", "key": "x"}),
        ("/data-model/tags/", {"name": "X"}),
    ],
)
def test_a_viewer_cannot_create_definitions(viewer, url, data):
    assert viewer.browser.post(url, data).status_code == 403
    assert (
        not AttributeDefinition.objects.exists()
        and not Stage.objects.exists()
        and not Tag.objects.exists()
    )


def test_a_viewer_gets_403_on_every_edit_url(viewer, model):
    urls = [
        f"/data-model/attributes/{model['attribute'].pk}/edit/",
        f"/data-model/attributes/{model['attribute'].pk}/delete/",
        f"/data-model/stages/{model['stage'].pk}/edit/",
        f"/data-model/stages/{model['stage'].pk}/move/",
        f"/data-model/stages/{model['stage'].pk}/delete/",
        f"/data-model/roles/{model['role'].pk}/edit/",
        f"/data-model/tags/{model['tag'].pk}/delete/",
    ]
    for url in urls:
        assert (
            viewer.browser.post(
                url, {"name": "Hacked", "label": "Hacked", "direction": "down"}
            ).status_code
            == 403
        ), url
    assert Stage.objects.get().name == "Onboarding" and Tag.objects.get().name == "VIP"


def test_a_practitioner_may_manage_tags_but_not_stages(practitioner, model):
    assert (
        practitioner.browser.post(
            "/data-model/tags/", {"name": "Beta", "color": "#111111"}
        ).status_code
        == 302
    )
    assert Tag.objects.filter(name="Beta").exists()
    assert (
        practitioner.browser.post(f"/data-model/stages/{model['stage'].pk}/delete/").status_code
        == 403
    )


def test_an_outsider_gets_404_on_every_object_url(outsider, model):
    urls = []
    for kind, key in (
        ("attributes", "attribute"),
        ("stages", "stage"),
        ("roles", "role"),
        ("tags", "tag"),
    ):
        pk = model[key].pk
        urls += [f"/data-model/{kind}/{pk}/edit/", f"/data-model/{kind}/{pk}/delete/"]
    urls.append(f"/data-model/stages/{model['stage'].pk}/move/")
    for url in urls:
        assert outsider.browser.get(url).status_code in (404, 405), url
        assert (
            outsider.browser.post(
                url, {"name": "Hacked", "label": "Hacked", "direction": "down"}
            ).status_code
            == 404
        ), url
    assert AttributeDefinition.objects.get().label == "Plan"
    assert Stage.objects.get().name == "Onboarding"
    assert b"VIP" not in outsider.browser.get("/data-model/tags/").content


def test_names_are_escaped(owner):
    actions.create_stage(owner.actor, {"name": "<script>alert(1)</script>"})
    actions.create_attribute(
        owner.actor, {"key": "x", "label": "<b>bold</b>", "type": "enum", "options": ["<i>o</i>"]}
    )
    assert b"<script>alert(1)</script>" not in owner.browser.get("/data-model/stages/").content
    page = owner.browser.get("/data-model/").content
    assert b"&lt;b&gt;bold&lt;/b&gt;" in page and b"<i>o</i>" not in page


def test_lists_are_paginated(owner, workspace):
    AttributeDefinition.objects.bulk_create(
        [
            AttributeDefinition(workspace=workspace, key=f"k{n:03}", label=f"K{n:03}", position=n)
            for n in range(60)
        ]
    )
    first = owner.browser.get("/data-model/").content.decode()
    assert "K000" in first and "K059" not in first and "1–50 of 60" in first
    assert "K059" in owner.browser.get("/data-model/?page=2").content.decode()


def test_an_unknown_object_type_is_404(owner):
    assert owner.browser.get("/data-model/attributes/deal/").status_code == 404
