"""The data modeler's attribute definitions: validation, safe changes, bulk delete."""

import pytest
from django.core.exceptions import PermissionDenied

from tend.accounts.actions import definitions as actions
from tend.accounts.models import Account, AttributeDefinition, Contact, EndUser
from tend.lib.errors import InvalidInput


def attribute(owner, **data):
    return actions.create_attribute(owner.actor, {"key": "plan", "label": "Plan", **data})


def account(workspace, n, **attributes):
    return Account.objects.create(
        workspace=workspace, external_id=f"a{n}", name=f"Account {n}", attributes=attributes
    )


def test_it_creates_an_attribute_with_the_given_fields(owner):
    definition = attribute(
        owner, type="enum", options=["Gold", "Silver"], description="The plan sold"
    )
    assert (definition.key, definition.type, definition.options) == (
        "plan",
        "enum",
        ["Gold", "Silver"],
    )
    assert definition.object_type == "account"
    assert definition.description == "The plan sold"


@pytest.mark.parametrize("key", ["Plan", "1plan", "plan-name", "", "p" * 64])
def test_it_rejects_keys_outside_the_pattern(owner, key):
    with pytest.raises(InvalidInput) as error:
        attribute(owner, key=key)
    assert error.value.field == "key"


def test_it_rejects_a_duplicate_key_with_a_sentence(owner):
    attribute(owner)
    with pytest.raises(InvalidInput) as error:
        attribute(owner, label="Plan again")
    assert error.value.field == "key"
    assert "already exists" in error.value.message


def test_the_same_key_may_exist_for_another_object_type(owner):
    attribute(owner)
    assert attribute(owner, object_type="user").object_type == "user"


def test_an_enum_needs_at_least_one_option(owner):
    with pytest.raises(InvalidInput) as error:
        attribute(owner, type="enum", options=[])
    assert error.value.field == "options"
    assert "at least one option" in error.value.message


@pytest.mark.parametrize("options", [["Gold", "Gold"], ["Gold", " "], "Gold", [1, 2]])
def test_options_must_be_unique_non_empty_text(owner, options):
    with pytest.raises(InvalidInput) as error:
        attribute(owner, type="multi_enum", options=options)
    assert error.value.field == "options"


def test_it_rejects_an_unknown_type_and_object_type(owner):
    with pytest.raises(InvalidInput) as error:
        attribute(owner, type="color")
    assert error.value.field == "type"
    with pytest.raises(InvalidInput) as error:
        attribute(owner, object_type="deal")
    assert error.value.field == "object_type"


def test_non_admins_cannot_define_attributes(practitioner, viewer):
    for persona in (practitioner, viewer):
        with pytest.raises(PermissionDenied):
            attribute(persona)
    assert not AttributeDefinition.objects.exists()


def test_changing_the_type_is_refused_while_values_do_not_fit(owner, workspace):
    definition = attribute(owner)
    account(workspace, 1, plan="Gold")
    account(workspace, 2, plan="12")
    account(workspace, 3, plan="Silver")
    with pytest.raises(InvalidInput) as error:
        actions.update_attribute(owner.actor, definition, {"type": "number"})
    assert error.value.field == "type"
    assert "2 accounts have a value that is not a valid number" in error.value.message
    definition.refresh_from_db()
    assert definition.type == "text"


def test_changing_the_type_converts_values_that_fit(owner, workspace):
    definition = attribute(owner, key="seats", label="Seats")
    account(workspace, 1, seats="12")
    account(workspace, 2, seats="7")
    actions.update_attribute(owner.actor, definition, {"type": "number"})
    assert sorted(a.attributes["seats"] for a in Account.objects.all()) == [7, 12]


def test_removing_an_option_in_use_is_refused_with_a_count(owner, workspace):
    definition = attribute(owner, type="enum", options=["Gold", "Silver", "Bronze"])
    account(workspace, 1, plan="Gold")
    account(workspace, 2, plan="Gold")
    account(workspace, 3, plan="Silver")
    with pytest.raises(InvalidInput) as error:
        actions.update_attribute(owner.actor, definition, {"options": ["Silver", "Bronze"]})
    assert error.value.field == "options"
    assert "'Gold' is in use by 2 accounts" in error.value.message
    updated = actions.update_attribute(owner.actor, definition, {"options": ["Gold", "Silver"]})
    assert updated.options == ["Gold", "Silver"]


def test_removing_a_multi_enum_option_in_use_is_refused(owner, workspace):
    definition = attribute(
        owner, key="modules", label="Modules", type="multi_enum", options=["CRM", "Billing"]
    )
    account(workspace, 1, modules=["CRM", "Billing"])
    with pytest.raises(InvalidInput) as error:
        actions.update_attribute(owner.actor, definition, {"options": ["CRM"]})
    assert "in use by 1 account:" in error.value.message


def test_required_can_be_turned_on_only_when_every_object_has_a_value(owner, workspace):
    definition = attribute(owner)
    account(workspace, 1, plan="Gold")
    account(workspace, 2)
    with pytest.raises(InvalidInput) as error:
        actions.update_attribute(owner.actor, definition, {"required": True})
    assert error.value.field == "required"
    assert "1 account has no value" in error.value.message
    Account.objects.filter(external_id="a2").update(attributes={"plan": "Silver"})
    assert actions.update_attribute(owner.actor, definition, {"required": True}).required is True


def test_the_key_of_an_attribute_cannot_change(owner):
    definition = attribute(owner)
    with pytest.raises(InvalidInput) as error:
        actions.update_attribute(owner.actor, definition, {"key": "tier"})
    assert error.value.field == "key"


def test_deleting_an_attribute_strips_its_key_from_every_object(owner, workspace, other_workspace):
    definition = attribute(owner)
    for n in range(4):
        account(workspace, n, plan="Gold", region="EU")
    account(workspace, 9, region="US")
    foreign = Account.objects.create(
        workspace=other_workspace, external_id="x", name="X", attributes={"plan": "Gold"}
    )

    removed = actions.delete_attribute(owner.actor, definition)

    assert removed == 4
    mine = list(Account.objects.filter(workspace=workspace).values_list("attributes", flat=True))
    assert all("plan" not in a for a in mine)
    assert sum(1 for a in mine if a.get("region") == "EU") == 4
    foreign.refresh_from_db()
    assert foreign.attributes == {"plan": "Gold"}
    assert not AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_deleting_a_contact_attribute_leaves_accounts_and_end_users_alone(owner, workspace):
    definition = attribute(owner, object_type="contact")
    holder = account(workspace, 1, plan="Gold")
    user = EndUser.objects.create(
        workspace=workspace, external_id="u1", attributes={"plan": "Gold"}
    )
    contact = Contact.objects.create(
        workspace=workspace,
        external_id="c1",
        account=holder,
        name="Ann",
        attributes={"plan": "Gold", "x": 1},
    )
    actions.delete_attribute(owner.actor, definition)
    contact.refresh_from_db()
    user.refresh_from_db()
    holder.refresh_from_db()
    assert contact.attributes == {"x": 1}
    assert user.attributes == {"plan": "Gold"}
    assert holder.attributes == {"plan": "Gold"}
