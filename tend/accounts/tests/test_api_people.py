"""/api/v1/users (end users) and /api/v1/contacts: CRUD, filters, pages and access."""

import pytest

from tend.accounts.models import (
    Account,
    AttributeDefinition,
    AttributeType,
    Contact,
    EndUser,
    ObjectType,
)


@pytest.fixture
def acme(workspace):
    AttributeDefinition.objects.create(
        workspace=workspace,
        object_type=ObjectType.USER,
        key="admin",
        label="Admin",
        type=AttributeType.BOOLEAN,
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        object_type=ObjectType.CONTACT,
        key="linkedin",
        label="LinkedIn",
        type=AttributeType.URL,
    )
    return Account.objects.create(workspace=workspace, external_id="acme", name="Acme")


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_end_user_crud(owner, acme):
    response = post(
        owner.api,
        "/api/v1/users",
        {
            "external_id": "u1",
            "account_external_id": "acme",
            "email": "Ann@acme.test",
            "name": "Ann",
            "attributes": {"admin": "yes"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account_external_id"] == "acme"
    assert body["attributes"] == {"admin": True}
    url = f"/api/v1/users/{body['id']}"
    assert owner.api.get(url).json()["email"] == "Ann@acme.test"
    response = patch(owner.api, url, {"name": "Ann B", "account_external_id": None})
    assert response.status_code == 200
    assert response.json()["account_external_id"] is None
    assert EndUser.objects.get(pk=body["id"]).name == "Ann B"
    assert owner.api.delete(url).status_code == 204
    assert not EndUser.objects.filter(pk=body["id"]).exists()


def test_contact_crud(owner, acme):
    response = post(
        owner.api,
        "/api/v1/contacts",
        {
            "external_id": "c1",
            "account_external_id": "acme",
            "name": "Carl",
            "email": "carl@acme.test",
            "phone": "+44 20 7946 0000",
            "role": "Economic buyer",
            "is_key_contact": True,
            "attributes": {"linkedin": "https://linkedin.com/in/carl"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["role"], body["is_key_contact"], body["phone"]) == (
        "Economic buyer",
        True,
        "+44 20 7946 0000",
    )
    url = f"/api/v1/contacts/{body['id']}"
    assert patch(owner.api, url, {"is_key_contact": False}).json()["is_key_contact"] is False
    assert owner.api.delete(url).status_code == 204
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/users", {"external_id": "u", "email": "not-an-email"}, "email"),
        (
            "/api/v1/users",
            {"external_id": "u", "account_external_id": "ghost"},
            "account_external_id",
        ),
        (
            "/api/v1/users",
            {"external_id": "u", "attributes": {"admin": "maybe"}},
            "attributes.admin",
        ),
        (
            "/api/v1/users",
            {"external_id": "u", "attributes": {"shoe_size": 9}},
            "attributes.shoe_size",
        ),
        ("/api/v1/contacts", {"external_id": "c", "name": "C"}, "account_external_id"),
        (
            "/api/v1/contacts",
            {
                "external_id": "c",
                "name": "C",
                "account_external_id": "acme",
                "attributes": {"linkedin": "ftp://x"},
            },
            "attributes.linkedin",
        ),
        (
            "/api/v1/contacts",
            {
                "external_id": "c",
                "name": "C",
                "account_external_id": "acme",
                "is_key_contact": "perhaps",
            },
            "is_key_contact",
        ),
    ],
)
def test_bad_people_input_names_the_field(owner, acme, url, payload, field):
    response = post(owner.api, url, payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not EndUser.objects.exists() and not Contact.objects.exists()


def test_people_filters(owner, acme, workspace):
    other = Account.objects.create(workspace=workspace, external_id="other", name="Other")
    EndUser.objects.create(workspace=workspace, external_id="U1", account=acme, email="a@acme.test")
    EndUser.objects.create(
        workspace=workspace, external_id="u1", account=other, email="b@other.test"
    )
    Contact.objects.create(
        workspace=workspace, external_id="c1", account=acme, name="C", email="c@acme.test"
    )

    def keys(url, **params):
        return sorted(i["external_id"] for i in owner.api.get(url, params).json()["items"])

    assert keys("/api/v1/users", external_id="u1") == ["u1"]
    assert keys("/api/v1/users", account_external_id="acme") == ["U1"]
    assert keys("/api/v1/users", email="A@ACME.test") == ["U1"]
    assert keys("/api/v1/contacts", account_external_id="other") == []
    assert keys("/api/v1/contacts", email="c@acme.test") == ["c1"]


def test_people_lists_page_through_everything(
    owner, acme, workspace, django_assert_max_num_queries
):
    EndUser.objects.bulk_create(
        [EndUser(workspace=workspace, external_id=f"u{n:04d}", account=acme) for n in range(1205)]
    )
    owner.api.get("/api/v1/users")
    seen, cursor = [], None
    while True:
        with django_assert_max_num_queries(4):
            body = owner.api.get(
                "/api/v1/users", {"limit": 500, **({"cursor": cursor} if cursor else {})}
            ).json()
        seen += [i["external_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 1205
    Contact.objects.bulk_create(
        [
            Contact(workspace=workspace, external_id=f"c{n}", account=acme, name=f"C{n}")
            for n in range(50)
        ]
    )
    with django_assert_max_num_queries(4):
        assert len(owner.api.get("/api/v1/contacts").json()["items"]) == 50


def test_the_outsider_gets_404_on_people_and_changes_nothing(outsider, acme, workspace):
    user = EndUser.objects.create(workspace=workspace, external_id="u1", account=acme, name="Ann")
    contact = Contact.objects.create(
        workspace=workspace, external_id="c1", account=acme, name="Carl"
    )
    for url in (f"/api/v1/users/{user.pk}", f"/api/v1/contacts/{contact.pk}"):
        assert outsider.api.get(url).status_code == 404
        assert patch(outsider.api, url, {"name": "Hacked"}).status_code == 404
        assert outsider.api.delete(url).status_code == 404
    assert outsider.api.get("/api/v1/users").json()["items"] == []
    user.refresh_from_db()
    contact.refresh_from_db()
    assert (user.name, contact.name) == ("Ann", "Carl")


def test_a_viewer_cannot_write_people(viewer, acme, workspace):
    user = EndUser.objects.create(workspace=workspace, external_id="u1", name="Ann")
    assert post(viewer.api, "/api/v1/users", {"external_id": "u2"}).status_code == 403
    assert patch(viewer.browser, f"/api/v1/users/{user.pk}", {"name": "X"}).status_code == 403
    assert viewer.api.delete(f"/api/v1/users/{user.pk}").status_code == 403
    assert (
        post(
            viewer.browser,
            "/api/v1/contacts",
            {"external_id": "c", "name": "C", "account_external_id": "acme"},
        ).status_code
        == 403
    )
    user.refresh_from_db()
    assert user.name == "Ann" and EndUser.objects.count() == 1 and not Contact.objects.exists()
