"""``tend workspace create`` and ``tend token create``: the last line is what scripts read."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tend.test import PASSWORD, token_client
from tend.workspaces.models import ApiToken, Member, Seat, Workspace, hash_token


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_workspace_create_prints_the_slug_last(db):
    lines = run(
        "workspace_create", "Initech CS", "--owner", "boss@initech.test", "--password", PASSWORD
    )
    assert lines[-1] == "initech-cs"
    workspace = Workspace.objects.get(slug="initech-cs")
    assert Member.objects.get(workspace=workspace).seat == Seat.ADMIN


def test_workspace_create_takes_a_slug(db):
    lines = run(
        "workspace_create",
        "Initech CS",
        "--owner",
        "boss@initech.test",
        "--password",
        PASSWORD,
        "--slug",
        "initech",
    )
    assert lines[-1] == "initech"


def test_workspace_create_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match="password"):
        run("workspace_create", "Initech", "--owner", "boss@initech.test", "--password", "123")
    assert not Workspace.objects.exists()


def test_token_create_prints_a_working_token_last(db):
    slug = run(
        "workspace_create", "Initech", "--owner", "boss@initech.test", "--password", PASSWORD
    )[-1]
    lines = run("token_create", "--workspace", slug, "--scopes", "read,write", "--name", "ETL")
    raw = lines[-1]
    token = ApiToken.objects.get(token_hash=hash_token(raw))
    assert (token.name, token.scopes) == ("ETL", ["read", "write"])
    response = token_client(raw).get("/api/v1/stages")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 5  # the default journey


def test_token_create_refuses_an_unknown_workspace_and_bad_scopes(db):
    with pytest.raises(CommandError, match="No workspace"):
        run("token_create", "--workspace", "nope", "--scopes", "read")
    slug = run(
        "workspace_create", "Initech", "--owner", "boss@initech.test", "--password", PASSWORD
    )[-1]
    with pytest.raises(CommandError, match="scope"):
        run("token_create", "--workspace", slug, "--scopes", "read,root")
    assert not ApiToken.objects.exists()
