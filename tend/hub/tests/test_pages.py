"""The import pages: upload, mapping with preview, dry run report, run, rejected rows; a
viewer reads but cannot write, an outsider gets 404, bad input answers 400 naming the field."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tend.accounts.models import Account, AttributeDefinition
from tend.hub.models import Import, ImportStatus, SavedMapping
from tend.hub.running import run_import
from tend.hub.tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db

FILE = "Customer ID,Company,Tier\nt-1,Acme,gold\nt-2,Globex,tin\nt-1,Acme again,gold\n"


@pytest.fixture
def tier(workspace):
    return AttributeDefinition.objects.create(
        workspace=workspace, key="tier", label="Tier", type="enum", options=["gold", "silver"]
    )


def upload_page(persona, content=FILE, object="account"):
    return persona.browser.post(
        "/data/imports/new/", {"file": SimpleUploadedFile("customers.csv", csv_bytes(content)), "object": object}
    )


def test_upload_then_map_with_suggestions_and_a_preview(owner, tier):
    response = upload_page(owner)
    assert response.status_code == 302
    imp = Import.objects.get()
    assert imp.mapping == {"Customer ID": "external_id", "Company": "name", "Tier": "attributes.tier"}
    page = owner.browser.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Map columns" in html and "Preview" in html
    # The preview runs the rows as the import would: the bad value and the in-sample duplicate.
    assert "Tier: &#x27;tin&#x27; is not one of the options: gold, silver" in html
    assert html.count("Rejected</span>") == 3
    assert not Account.objects.exists()


def test_the_mapping_form_saves_a_named_mapping_and_starts_a_dry_run(owner, tier):
    upload_page(owner)
    imp = Import.objects.get()
    response = owner.browser.post(
        f"/data/imports/{imp.pk}/mapping/",
        {"field-0": "external_id", "field-1": "name", "field-2": "", "save_as": "Customers", "intent": "dry_run"},
    )
    assert response.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.QUEUED and imp.dry_run
    assert imp.mapping == {"Customer ID": "external_id", "Company": "name", "Tier": ""}
    assert SavedMapping.objects.get(name="Customers").columns == imp.mapping
    run_import(imp.pk)
    html = owner.browser.get(f"/data/imports/{imp.pk}/").content.decode()
    assert "Dry run" in html and "duplicate key" in html and "Run the import" in html
    response = owner.browser.post(f"/data/imports/{imp.pk}/start/")
    real = Import.objects.exclude(pk=imp.pk).get()
    assert response["Location"] == f"/data/imports/{real.pk}/"
    run_import(real.pk)
    assert list(Account.objects.values_list("external_id", flat=True)) == ["t-2"]
    csv_text = b"".join(owner.browser.get(f"/data/imports/{real.pk}/rejected.csv").streaming_content).decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "row,reason,Customer ID,Company,Tier"
    assert csv_text.count("duplicate key") == 2


def test_a_mapping_without_a_key_is_refused_naming_the_mapping(owner):
    upload_page(owner)
    imp = Import.objects.get()
    response = owner.browser.post(
        f"/data/imports/{imp.pk}/mapping/", {"field-0": "", "field-1": "name", "field-2": "", "intent": "dry_run"}
    )
    assert response.status_code == 400
    assert "mapping: no column is mapped to external_id" in response.content.decode()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DRAFT


def test_an_upload_without_a_file_is_refused_naming_the_file(owner):
    response = owner.browser.post("/data/imports/new/", {"object": "account"})
    assert response.status_code == 400
    assert "is required" in response.content.decode()
    assert not Import.objects.exists()


def test_the_progress_partial_refreshes_the_page_once_finished(owner):
    upload_page(owner)
    imp = Import.objects.get()
    owner.browser.post(f"/data/imports/{imp.pk}/mapping/", {"field-0": "external_id", "field-1": "name", "intent": "run"})
    running = owner.browser.get(f"/data/imports/{imp.pk}/progress/", HTTP_HX_REQUEST="true")
    assert running.status_code == 200 and "HX-Refresh" not in running and 'hx-trigger="every 1s"' in running.content.decode()
    run_import(imp.pk)
    done = owner.browser.get(f"/data/imports/{imp.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_a_viewer_reads_the_report_but_cannot_upload_map_or_run(owner, viewer):
    upload_page(owner)
    imp = Import.objects.get()
    assert viewer.browser.get("/data/imports/").status_code == 200
    assert viewer.browser.get(f"/data/imports/{imp.pk}/").status_code == 200
    assert upload_page(viewer).status_code == 403
    assert viewer.browser.post(f"/data/imports/{imp.pk}/mapping/", {"field-0": "external_id", "intent": "run"}).status_code == 403
    assert viewer.browser.post(f"/data/imports/{imp.pk}/start/").status_code == 403
    assert viewer.browser.post("/data/imports/sources/", {"object": "account", "key": "tier", "source": "CRM"}).status_code == 403
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DRAFT and Import.objects.count() == 1


def test_outsiders_get_404_on_every_import_page(owner, outsider):
    upload_page(owner)
    imp = Import.objects.get()
    for url in ("", "progress/", "rejected.csv"):
        assert outsider.browser.get(f"/data/imports/{imp.pk}/{url}").status_code == 404
    for url in ("mapping/", "start/"):
        assert outsider.browser.post(f"/data/imports/{imp.pk}/{url}", {"intent": "run"}).status_code == 404
    assert "customers.csv" not in outsider.browser.get("/data/imports/").content.decode()


def test_the_list_pages_with_a_bounded_number_of_queries(owner, django_assert_max_num_queries):
    for _ in range(3):
        upload_page(owner)
    with django_assert_max_num_queries(12):
        response = owner.browser.get("/data/imports/")
    assert response.content.decode().count("customers.csv") == 3


def test_the_upload_form_is_csrf_protected(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    response = client.post("/data/imports/new/", {"file": SimpleUploadedFile("a.csv", b"external_id\n1\n"), "object": "account"})
    assert response.status_code == 403
    assert not Import.objects.exists()


def test_an_admin_names_the_source_of_truth_of_an_attribute(owner, tier):
    response = owner.browser.post("/data/imports/sources/", {"object": "account", "key": "tier", "source": "CRM"})
    assert response.status_code == 302
    assert 'value="CRM"' in owner.browser.get("/data/imports/sources/").content.decode()


def test_another_sheet_of_a_workbook_is_read_from_the_mapping_page(owner):
    from tend.hub.tests.test_reading import xlsx

    content = xlsx({"Notes": [["Nothing here"]], "Accounts": [["external_id", "name"], ["s-1", "Sheet Co"]]})
    owner.browser.post("/data/imports/new/", {"file": SimpleUploadedFile("book.xlsx", content), "object": "account"})
    imp = Import.objects.get()
    assert imp.headers == ["Nothing here"]
    assert 'id="choose-sheet"' in owner.browser.get(f"/data/imports/{imp.pk}/").content.decode()
    response = owner.browser.post(f"/data/imports/{imp.pk}/mapping/", {"intent": "sheet", "sheet": "Accounts"})
    assert response.status_code == 302
    imp.refresh_from_db()
    assert (imp.sheet, imp.headers, imp.mapping) == ("Accounts", ["external_id", "name"], {"external_id": "external_id", "name": "name"})
    bad = owner.browser.post(f"/data/imports/{imp.pk}/mapping/", {"intent": "sheet", "sheet": "Nope"})
    assert bad.status_code == 400 and "sheet: no sheet named" in bad.content.decode()
    owner.browser.post(f"/data/imports/{imp.pk}/mapping/", {"field-0": "external_id", "field-1": "name", "intent": "run"})
    run_import(imp.pk)
    assert Account.objects.get().name == "Sheet Co"


def test_the_report_pages_its_rejected_rows_with_a_bounded_number_of_queries(owner, django_assert_max_num_queries):
    text = "external_id,name\n" + "".join(f"r-{i},\n" for i in range(120))  # every row lacks a name
    upload_page(owner, content=text)
    imp = Import.objects.get()
    owner.browser.post(f"/data/imports/{imp.pk}/mapping/", {"field-0": "external_id", "field-1": "name", "intent": "run"})
    run_import(imp.pk)
    with django_assert_max_num_queries(12):
        page = owner.browser.get(f"/data/imports/{imp.pk}/")
    html = page.content.decode()
    assert html.count("name: is required for a new account") == 50
    last = owner.browser.get(f"/data/imports/{imp.pk}/?page=3").content.decode()
    assert last.count("name: is required for a new account") == 20


def test_a_report_shows_why_the_job_running_it_failed(owner):
    from tend.jobs.models import Job

    upload_page(owner)
    imp = Import.objects.get()
    owner.browser.post(f"/data/imports/{imp.pk}/mapping/", {"field-0": "external_id", "field-1": "name", "intent": "run"})
    imp.refresh_from_db()
    Job.objects.filter(pk=imp.job_id).update(status="failed", last_error="LeaseExpired: the worker stopped\n\ntrace")
    html = owner.browser.get(f"/data/imports/{imp.pk}/").content.decode()
    assert "The job running this import failed: LeaseExpired: the worker stopped" in html
    assert 'hx-trigger="every 1s"' not in html  # no point polling a dead job


def test_only_admins_are_offered_to_create_attributes_from_columns(owner, practitioner):
    upload_page(practitioner)
    imp = Import.objects.get()
    assert "Create text attribute “Tier”" in owner.browser.get(f"/data/imports/{imp.pk}/").content.decode()
    assert "Create text attribute" not in practitioner.browser.get(f"/data/imports/{imp.pk}/").content.decode()
