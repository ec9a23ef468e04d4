"""The import pages and API with records (usage, metric values, tasks, touchpoints,
assignments): the object picker offers them, the mapping page explains the key and shows
the preview, the API accepts them, and a viewer or an outsider cannot use them."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.hub.models import Import, ImportObject, RejectedRow
from tend.hub.running import run_import
from tend.hub.tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db

USAGE = "date,account,activity,count\n2026-11-01,acme,login,3\n2026-11-01,nobody,login,1\n"


def test_the_picker_offers_every_object(owner):
    html = owner.browser.get("/data/imports/new/").content.decode()
    for value, label in ImportObject.choices:
        assert f'<option value="{value}"' in html, value
        assert label in html


def test_a_usage_upload_maps_by_its_fields_and_previews_each_row(owner, workspace):
    Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    response = owner.browser.post(
        "/data/imports/new/",
        {"file": SimpleUploadedFile("usage.csv", csv_bytes(USAGE)), "object": "usage"},
    )
    assert response.status_code == 302
    imp = Import.objects.get()
    assert imp.mapping == {
        "date": "date",
        "account": "account_external_id",
        "activity": "activity",
        "count": "count",
    }
    html = owner.browser.get(response["Location"]).content.decode()
    assert 'id="record-about"' in html and "replaces what earlier imports said" in html
    assert "Events (count)" in html and "Time spent (seconds)" in html
    assert "no account with external id &#x27;nobody&#x27;" in html
    # Without the count the preview says what is missing, and starting is refused naming the mapping.
    response = owner.browser.post(
        f"/data/imports/{imp.pk}/mapping/",
        {
            "field-0": "date",
            "field-1": "account_external_id",
            "field-2": "activity",
            "field-3": "",
            "intent": "dry_run",
        },
    )
    assert response.status_code == 400
    assert "no column is mapped to Events (count) (count)" in response.content.decode()


def test_the_api_imports_assignments_and_reports_rejected_rows(owner, workspace, viewer, outsider):
    acme = Account.objects.create(workspace=workspace, external_id="acme", name="Acme")
    Account.objects.create(workspace=workspace, external_id="globex", name="Globex")
    csm = AssignmentRole.objects.create(workspace=workspace, key="csm", name="CSM")
    body = (
        "account,role,member\n"
        f"acme,csm,{owner.member.user.email}\n"
        f"globex,CSM,{owner.member.user.email}\n"
        "acme,cfo,\n"
        "nobody,csm,\n"
        "globex,csm,someone@else.test\n"
    )

    def post(persona):
        return persona.api.post(
            "/api/v1/imports",
            {
                "file": SimpleUploadedFile("a.csv", csv_bytes(body)),
                "object": "assignment",
                "mapping": json.dumps(
                    {"account": "account_external_id", "role": "role", "member": "member"}
                ),
            },
        )

    assert post(viewer).status_code == 403
    response = post(owner)
    assert response.status_code == 202, response.content
    imp = Import.objects.get(pk=response.json()["id"])
    assert imp.object == "assignment"
    run_import(imp.pk)
    data = owner.api.get(f"/api/v1/imports/{imp.pk}").json()
    # globex twice (csm and CSM are one role): both rejected as duplicates.
    assert data["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 4}
    assert Assignment.objects.get(account=acme, role=csm).member == owner.member
    reasons = dict(RejectedRow.objects.filter(import_run=imp).values_list("row_number", "reason"))
    assert reasons[3].startswith("duplicate key") and reasons[6].startswith("duplicate key")
    assert reasons[4].startswith("role: no assignment role 'cfo'")
    assert reasons[5] == "account: no account with external id 'nobody'"
    assert outsider.api.get(f"/api/v1/imports/{imp.pk}").status_code == 404
    errors = owner.api.get(f"/api/v1/imports/{imp.pk}/errors")
    assert errors.status_code == 200 and b"no assignment role" in b"".join(errors.streaming_content)
