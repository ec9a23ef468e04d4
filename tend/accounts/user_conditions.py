"""The fields a condition (and a search) can test on an end user: a smaller catalog than
an account's, built the same way.

* built-ins — ``external_id``, ``email``, ``name``, ``created_at``, and the user's account:
  ``account`` (its external id), ``account.name``, ``account.status``;
* ``attributes.<key>`` for every end-user attribute definition, typed by it (the same
  JSON reading and type guards as account attributes);
* whatever upper apps add with :func:`add_user_field_provider` from their
  ``AppConfig.ready()`` (usage adds ``usage.<metric>`` from the user's own metrics row).
"""

from tend.accounts.conditions import FieldProvider, attribute_field
from tend.accounts.models import AccountStatus, AttributeDefinition, ObjectType
from tend.lib.conditions import Catalog, FieldSpec, FieldType
from tend.workspaces.models import Workspace

_providers: dict[str, FieldProvider] = {}


def add_user_field_provider(key: str, provider: FieldProvider) -> None:
    """Let an upper app add end-user fields; by key, so registering again replaces."""
    _providers[key] = provider


def user_catalog(workspace: Workspace) -> Catalog:
    """Every field a condition on ``workspace``'s end users can test."""
    fields = [*builtin_user_fields(), *user_attribute_fields(workspace)]
    for key in sorted(_providers):
        fields.extend(_providers[key](workspace))
    return Catalog(fields)


def _with_account(queryset):
    return queryset.select_related("account")


def builtin_user_fields() -> list[FieldSpec]:
    group = "End user"
    return [
        FieldSpec(
            "external_id",
            FieldType.TEXT,
            "External id",
            lookup="external_id",
            get=lambda u: u.external_id,
            group=group,
            description="The id the product knows the user by (case-sensitive)",
        ),
        FieldSpec(
            "email", FieldType.TEXT, "Email", lookup="email", get=lambda u: u.email, group=group
        ),
        FieldSpec("name", FieldType.TEXT, "Name", lookup="name", get=lambda u: u.name, group=group),
        FieldSpec(
            "created_at",
            FieldType.DATETIME,
            "Created",
            lookup="created_at",
            get=lambda u: u.created_at,
            group=group,
        ),
        FieldSpec(
            "account",
            FieldType.TEXT,
            "Account",
            lookup="account__external_id",
            get=lambda u: u.account.external_id if u.account_id else None,
            prepare=_with_account,
            group="Account",
            description="The external id of the user's account",
        ),
        FieldSpec(
            "account.name",
            FieldType.TEXT,
            "Account name",
            lookup="account__name",
            get=lambda u: u.account.name if u.account_id else None,
            prepare=_with_account,
            group="Account",
        ),
        FieldSpec(
            "account.status",
            FieldType.ENUM,
            "Account status",
            lookup="account__status",
            options=tuple(AccountStatus.values),
            get=lambda u: u.account.status if u.account_id else None,
            prepare=_with_account,
            group="Account",
        ),
    ]


def user_attribute_fields(workspace: Workspace) -> list[FieldSpec]:
    definitions = AttributeDefinition.objects.filter(
        workspace=workspace, object_type=ObjectType.USER
    ).order_by("position", "label", "id")
    return [attribute_field(d) for d in definitions]
