"""The API's answers to bad requests: one JSON shape, the right status, the field named."""

import pytest
from django.test import Client
from django.utils import timezone

from tend.accounts.models import Account
from tend.test import make_token, token_client
from tend.workspaces.models import ApiToken

URL = "/api/v1/accounts"


def assert_error_shape(response, status, field=None):
    assert response.status_code == status
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    if field is not None:
        assert body["errors"][0]["field"] == field
        assert body["errors"][0]["message"]


def test_malformed_json_is_a_400_naming_the_body(owner):
    assert_error_shape(
        owner.api.post(URL, b'{"external_id": ', content_type="application/json"), 400, "body"
    )
    assert_error_shape(owner.api.put(URL, b"[{,]", content_type="application/json"), 400, "body")
    assert not Account.objects.exists()


def test_a_wrong_type_is_a_422_with_the_dotted_field(owner):
    response = owner.api.post(
        URL, {"external_id": "a", "name": "A", "tags": "vip"}, content_type="application/json"
    )
    assert_error_shape(response, 422, "tags")
    response = owner.api.post(
        URL,
        {"external_id": "a", "name": "A", "assignments": {"x": 5}},
        content_type="application/json",
    )
    assert_error_shape(response, 422, "assignments.x")


def test_an_oversized_body_is_a_413(owner, settings):
    settings.TEND_MAX_BODY_BYTES = 1000
    response = owner.api.put(URL, b"[" + b" " * 2000 + b"]", content_type="application/json")
    assert_error_shape(response, 413, "body")


def test_a_missing_token_is_a_401():
    response = Client().get(URL)
    assert_error_shape(response, 401, "Authorization")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_or_revoked_token_is_a_401_even_with_a_session(owner):
    assert_error_shape(token_client("tend_nonsense").get(URL), 401)
    ApiToken.objects.filter(workspace=owner.workspace).update(revoked_at=timezone.now())
    assert_error_shape(owner.api.get(URL), 401)
    owner.browser.defaults["HTTP_AUTHORIZATION"] = f"Bearer {owner.token}"
    assert_error_shape(owner.browser.get(URL), 401)


@pytest.mark.parametrize("scopes", [("read",), ("ingest",)])
def test_a_token_lacking_the_write_scope_is_a_403(workspace, scopes):
    client = token_client(make_token(workspace, scopes))
    response = client.post(URL, {"external_id": "a", "name": "A"}, content_type="application/json")
    assert_error_shape(response, 403)
    assert "write" in response.json()["detail"]
    assert not Account.objects.exists()


def test_a_token_lacking_the_read_scope_cannot_list(workspace):
    assert_error_shape(token_client(make_token(workspace, ("ingest",))).get(URL), 403)


def test_a_session_write_without_the_csrf_token_is_refused(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    response = client.post(URL, {"external_id": "a", "name": "A"}, content_type="application/json")
    assert_error_shape(response, 403)
    assert not Account.objects.exists()

    client.get("/", follow=True)  # sets the CSRF cookie, as any page of the app does
    token = client.cookies["csrftoken"].value
    response = client.post(
        URL,
        {"external_id": "a", "name": "A"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201, response.content
    assert Account.objects.filter(external_id="a").exists()


def test_an_unknown_id_is_a_404(owner):
    assert_error_shape(owner.api.get(f"{URL}/999999"), 404)
