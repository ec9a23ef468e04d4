"""API tokens: shown once, stored hashed, scoped, revocable."""

import pytest

from tend.lib.errors import InvalidInput
from tend.test import token_client
from tend.workspaces import actions
from tend.workspaces.models import ApiToken, hash_token


def test_only_the_hash_and_a_prefix_are_stored(owner):
    token, raw = actions.create_api_token(owner.actor, name="Warehouse", scopes=["write", "read"])
    assert raw.startswith("tend_") and len(raw) > 40
    assert token.token_hash == hash_token(raw)
    assert raw[:12] == token.prefix
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert raw not in {str(v) for v in stored.values()}
    assert token.scopes == ["read", "write"]
    assert token.created_by == owner.member


@pytest.mark.parametrize("scopes", [[], ["root"], "read,sudo"])
def test_unknown_or_missing_scopes_are_refused(owner, scopes):
    with pytest.raises(InvalidInput) as error:
        actions.create_api_token(owner.actor, name="x", scopes=scopes)
    assert error.value.field == "scopes"


def test_the_raw_token_is_shown_once_on_the_next_page(owner):
    response = owner.browser.post(
        "/settings/tokens/", {"name": "Warehouse", "scopes": ["read", "write"]}
    )
    token = ApiToken.objects.get(name="Warehouse")
    assert response["Location"] == f"/settings/tokens/{token.pk}/created/"

    shown = owner.browser.get(response["Location"]).content.decode()
    start = shown.index('class="secret-box" id="new-token-value">') + len(
        'class="secret-box" id="new-token-value">'
    )
    raw = shown[start : shown.index("<", start)]
    assert hash_token(raw) == token.token_hash
    assert "shown only this once" in shown

    again = owner.browser.get(response["Location"]).content.decode()
    assert raw not in again
    assert "can no longer be shown" in again
    assert raw not in owner.browser.get("/settings/tokens/").content.decode()


def test_a_token_created_in_the_ui_works_until_revoked(owner):
    owner.browser.post("/settings/tokens/", {"name": "Sync", "scopes": ["read"]})
    token = ApiToken.objects.get(name="Sync")
    page = owner.browser.get(f"/settings/tokens/{token.pk}/created/").content.decode()
    start = page.index('id="new-token-value">') + len('id="new-token-value">')
    client = token_client(page[start : page.index("<", start)])

    assert client.get("/api/v1/stages").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert owner.browser.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    response = client.get("/api/v1/stages")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert b"Revoked" in owner.browser.get("/settings/tokens/").content


def test_the_token_form_needs_a_name_and_a_scope(owner):
    response = owner.browser.post("/settings/tokens/", {"name": "", "scopes": []})
    assert response.status_code == 422
    assert not ApiToken.objects.filter(created_by=owner.member).exists()
