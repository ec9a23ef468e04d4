"""``/users`` (end users) and ``/contacts``: list, get, create, update, delete, bulk upsert."""

from ninja import Query, Router
from ninja.responses import Status

from tend.accounts.actions.people import (
    create_contact,
    create_end_user,
    delete_contact,
    delete_end_user,
    update_contact,
    update_end_user,
)
from tend.accounts.api.common import bulk_openapi, bulk_upsert_response, page_by_id
from tend.accounts.bulk import upsert_contacts, upsert_end_users
from tend.accounts.models import Contact, EndUser
from tend.accounts.schemas import (
    CONTACT_FIELDS,
    PERSON_FIELDS,
    BulkOut,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    EndUserIn,
    EndUserOut,
    EndUserPage,
    EndUserPatch,
    ErrorOut,
    PersonFilters,
    people_json,
    person_queryset,
)
from tend.lib.api_schemas import ERRORS
from tend.workspaces.access import READ, WRITE, get_for

router = Router(tags=["people"])


def _list(request, model, filters: PersonFilters, fields):
    actor = request.auth
    actor.require(READ)
    people = model.objects.filter(workspace=actor.workspace)
    if filters.external_id is not None:
        people = people.filter(external_id=filters.external_id)
    if filters.account_external_id is not None:
        people = people.filter(account__external_id=filters.account_external_id)
    if filters.email:
        people = people.filter(email__iexact=filters.email.strip())
    page, next_cursor = page_by_id(person_queryset(people), filters.cursor, filters.limit)
    return {"items": people_json(page, fields), "next_cursor": next_cursor}


def _one(actor, model, pk: int, fields) -> dict:
    return people_json([get_for(actor, person_queryset(model.objects.all()), READ, pk=pk)], fields)[
        0
    ]


def _patch(actor, model, pk: int, payload, update, fields) -> dict:
    # Fetched with READ: the update action itself requires WRITE.
    update(actor, get_for(actor, model, READ, pk=pk), payload.model_dump(exclude_unset=True))
    return _one(actor, model, pk, fields)


def _remove(actor, model, pk: int, delete):
    delete(actor, get_for(actor, model, WRITE, pk=pk))
    return Status(204, None)


# --- end users -----------------------------------------------------------------------------


@router.get("/users", response={200: EndUserPage, **ERRORS}, summary="List end users")
def list_end_users(request, filters: Query[PersonFilters]):
    return _list(request, EndUser, filters, PERSON_FIELDS)


@router.get("/users/{int:id}", response={200: EndUserOut, **ERRORS}, summary="Get an end user")
def get_end_user(request, id: int):
    return _one(request.auth, EndUser, id, PERSON_FIELDS)


@router.post("/users", response={201: EndUserOut, **ERRORS}, summary="Create an end user")
def post_end_user(request, payload: EndUserIn):
    end_user = create_end_user(request.auth, payload.model_dump(exclude_unset=True))
    return Status(201, _one(request.auth, EndUser, end_user.pk, PERSON_FIELDS))


@router.patch("/users/{int:id}", response={200: EndUserOut, **ERRORS}, summary="Update an end user")
def patch_end_user(request, id: int, payload: EndUserPatch):
    return _patch(request.auth, EndUser, id, payload, update_end_user, PERSON_FIELDS)


@router.delete("/users/{int:id}", response={204: None, **ERRORS}, summary="Delete an end user")
def remove_end_user(request, id: int):
    return _remove(request.auth, EndUser, id, delete_end_user)


@router.put(
    "/users",
    response={200: BulkOut, **ERRORS, 413: ErrorOut},
    summary="Upsert end users in bulk by external id",
    openapi_extra=bulk_openapi(EndUserIn),
)
def put_end_users(request):
    return bulk_upsert_response(request, upsert_end_users)


# --- contacts ------------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, **ERRORS}, summary="List contacts")
def list_contacts(request, filters: Query[PersonFilters]):
    return _list(request, Contact, filters, CONTACT_FIELDS)


@router.get("/contacts/{int:id}", response={200: ContactOut, **ERRORS}, summary="Get a contact")
def get_contact(request, id: int):
    return _one(request.auth, Contact, id, CONTACT_FIELDS)


@router.post("/contacts", response={201: ContactOut, **ERRORS}, summary="Create a contact")
def post_contact(request, payload: ContactIn):
    contact = create_contact(request.auth, payload.model_dump(exclude_unset=True))
    return Status(201, _one(request.auth, Contact, contact.pk, CONTACT_FIELDS))


@router.patch(
    "/contacts/{int:id}", response={200: ContactOut, **ERRORS}, summary="Update a contact"
)
def patch_contact(request, id: int, payload: ContactPatch):
    return _patch(request.auth, Contact, id, payload, update_contact, CONTACT_FIELDS)


@router.delete("/contacts/{int:id}", response={204: None, **ERRORS}, summary="Delete a contact")
def remove_contact(request, id: int):
    return _remove(request.auth, Contact, id, delete_contact)


@router.put(
    "/contacts",
    response={200: BulkOut, **ERRORS, 413: ErrorOut},
    summary="Upsert contacts in bulk by external id",
    openapi_extra=bulk_openapi(ContactIn),
)
def put_contacts(request):
    return bulk_upsert_response(request, upsert_contacts)
