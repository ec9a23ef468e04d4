"""``/accounts``: list, get, create, update, delete, and bulk upsert by external id."""

from django.db.models import Q
from ninja import Query, Router
from ninja.responses import Status

from tend.accounts.actions.accounts import create_account, delete_account, update_account
from tend.accounts.api.common import bulk_openapi, bulk_upsert_response, page_by_id
from tend.accounts.bulk import upsert_accounts
from tend.accounts.models import Account, AccountTag, Assignment
from tend.accounts.schemas import (
    AccountFilters,
    AccountIn,
    AccountPatch,
    BulkOut,
    ErrorOut,
    account_queryset,
    account_schemas,
    accounts_json,
)
from tend.lib.api_schemas import ERRORS
from tend.workspaces.access import READ, WRITE, get_for

router = Router(tags=["accounts"])
# The account's own fields and those other apps add (health's ``health``).
AccountOut, AccountPage = account_schemas()


def _one(actor, pk: int) -> dict:
    account = get_for(actor, account_queryset(Account.objects.all()), READ, pk=pk)
    return accounts_json([account], actor.workspace)[0]


@router.get("/accounts", response={200: AccountPage, **ERRORS}, summary="List accounts")
def list_accounts(request, filters: Query[AccountFilters]):
    actor = request.auth
    actor.require(READ)
    ws = actor.workspace
    accounts = Account.objects.filter(workspace=ws)
    if filters.external_id is not None:
        accounts = accounts.filter(external_id=filters.external_id)
    if filters.status:
        accounts = accounts.filter(status=filters.status)
    if filters.stage:
        accounts = accounts.filter(stage__name=filters.stage)
    if filters.tag:
        tagged = AccountTag.objects.filter(tag__workspace=ws, tag__name=filters.tag).values(
            "account_id"
        )
        accounts = accounts.filter(id__in=tagged)
    if filters.owner:
        owned = Assignment.objects.filter(
            workspace=ws, member__user__email=filters.owner.strip().lower()
        )
        accounts = accounts.filter(id__in=owned.values("account_id"))
    if filters.q:
        accounts = accounts.filter(
            Q(name__icontains=filters.q) | Q(external_id__icontains=filters.q)
        )
    if filters.parent_external_id is not None:
        accounts = accounts.filter(parent__external_id=filters.parent_external_id)
    if filters.updated_since is not None:
        accounts = accounts.filter(updated_at__gte=filters.updated_since)
    page, next_cursor = page_by_id(account_queryset(accounts), filters.cursor, filters.limit)
    return {"items": accounts_json(page, ws), "next_cursor": next_cursor}


@router.get("/accounts/{int:id}", response={200: AccountOut, **ERRORS}, summary="Get an account")
def get_account(request, id: int):
    return _one(request.auth, id)


@router.post("/accounts", response={201: AccountOut, **ERRORS}, summary="Create an account")
def post_account(request, payload: AccountIn):
    account = create_account(request.auth, payload.model_dump(exclude_unset=True), source="api")
    return Status(201, _one(request.auth, account.pk))


@router.patch(
    "/accounts/{int:id}", response={200: AccountOut, **ERRORS}, summary="Update an account"
)
def patch_account(request, id: int, payload: AccountPatch):
    actor = request.auth
    account = get_for(actor, Account, READ, pk=id)
    update_account(actor, account, payload.model_dump(exclude_unset=True), source="api")
    return _one(actor, id)


@router.delete("/accounts/{int:id}", response={204: None, **ERRORS}, summary="Delete an account")
def remove_account(request, id: int):
    actor = request.auth
    delete_account(actor, get_for(actor, Account, WRITE, pk=id))
    return Status(204, None)


@router.put(
    "/accounts",
    response={200: BulkOut, **ERRORS, 413: ErrorOut},
    summary="Upsert accounts in bulk by external id",
    description=(
        "A JSON array of up to 50,000 accounts (see `TEND_BULK_MAX_ITEMS`). Each is created or "
        "updated by `external_id`; the answer has one result per item: created, updated, "
        "unchanged or error (with the fields at fault). Items with errors are not written."
    ),
    openapi_extra=bulk_openapi(AccountIn),
)
def put_accounts(request):
    return bulk_upsert_response(request, upsert_accounts)
