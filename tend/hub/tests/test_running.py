"""Running an import: keyed upserts, counts, rejected rows with reasons, dry runs that write
nothing, duplicate keys reported, and sources of truth respected."""

import pytest

from tend.accounts.models import Account, AttributeDefinition, EndUser
from tend.hub import actions
from tend.hub.models import ImportStatus, RejectedRow
from tend.hub.running import preview, run_import
from tend.hub.tests.conftest import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(workspace):
    AttributeDefinition.objects.create(
        workspace=workspace, key="plan", label="Plan", type="enum", options=["gold", "silver"]
    )
    AttributeDefinition.objects.create(workspace=workspace, key="renewal", label="Renewal date", type="date")


ACCOUNTS = """external_id,name,Plan,Renewal date
a-1,Acme,gold,2027-01-31
a-2,Globex,silver,
a-3,Initech,platinum,2027-02-01
a-4,Umbrella,gold,31/02/2027
"""


def reasons(imp):
    return dict(RejectedRow.objects.filter(import_run=imp).values_list("row_number", "reason"))


def test_it_creates_accounts_and_rejects_bad_rows_with_their_row_and_reason(owner, plan, upload, run_now):
    imp = run_now(owner, upload(owner, csv_bytes(ACCOUNTS)))
    assert imp.status == ImportStatus.PARTIAL
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (2, 0, 0, 2)
    assert imp.rows_total == imp.rows_done == 4
    assert set(Account.objects.filter(workspace=owner.workspace).values_list("external_id", flat=True)) == {"a-1", "a-2"}
    acme = Account.objects.get(external_id="a-1")
    assert acme.attributes == {"plan": "gold", "renewal": "2027-01-31"}
    found = reasons(imp)
    assert set(found) == {4, 5}
    assert "Plan" in found[4] and "platinum" in found[4]
    assert "Renewal date" in found[5]


def test_running_the_same_file_again_changes_nothing_and_creates_no_duplicate(owner, plan, upload, run_now):
    run_now(owner, upload(owner, csv_bytes(ACCOUNTS)))
    again = run_now(owner, upload(owner, csv_bytes(ACCOUNTS)))
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 2)
    assert Account.objects.filter(workspace=owner.workspace).count() == 2


def test_a_changed_row_is_an_update_and_a_blank_cell_keeps_the_stored_value(owner, plan, upload, run_now):
    run_now(owner, upload(owner, csv_bytes(ACCOUNTS)))
    changed = run_now(owner, upload(owner, csv_bytes("external_id,name,Plan,Renewal date\na-1,Acme Corp,,\n")))
    assert (changed.created, changed.updated) == (0, 1)
    acme = Account.objects.get(external_id="a-1")
    assert acme.name == "Acme Corp"
    assert acme.attributes == {"plan": "gold", "renewal": "2027-01-31"}


def test_a_dry_run_writes_nothing_and_counts_what_a_run_would_do(owner, plan, upload, run_now):
    Account.objects.create(workspace=owner.workspace, external_id="a-2", name="Globex", attributes={"plan": "silver"})
    before = list(Account.objects.values_list("external_id", "name", "attributes"))
    dry = run_now(owner, upload(owner, csv_bytes(ACCOUNTS + "a-5,New Co,gold,\n")), dry_run=True, unknown="create")
    assert dry.dry_run and dry.status == ImportStatus.PARTIAL
    assert (dry.created, dry.updated, dry.unchanged, dry.rejected) == (2, 0, 1, 2)
    assert list(Account.objects.values_list("external_id", "name", "attributes")) == before
    # The real run, started from the dry run's report, does what the dry run said.
    real = actions.start_import(owner.actor, dry, dry_run=False)
    run_import(real.pk)
    real.refresh_from_db()
    assert real.dry_run_of_id == dry.pk and not real.dry_run
    assert (real.created, real.updated, real.unchanged, real.rejected) == (2, 0, 1, 2)


def test_a_dry_run_creates_no_attribute_but_the_run_does(owner, upload, run_now):
    text = "id,name,Seats bought\na-1,Acme,12\n"
    dry = run_now(owner, upload(owner, csv_bytes(text)), dry_run=True, unknown="create")
    assert dry.created == 1 and dry.rejected == 0
    assert not AttributeDefinition.objects.filter(workspace=owner.workspace).exists()
    assert not Account.objects.exists()
    real = run_now(owner, upload(owner, csv_bytes(text)), unknown="create")
    assert real.created == 1
    definition = AttributeDefinition.objects.get(workspace=owner.workspace, key="seats_bought")
    assert definition.label == "Seats bought"
    assert Account.objects.get().attributes == {"seats_bought": "12"}


def test_duplicate_keys_in_a_file_are_all_reported_and_none_is_written(owner, upload, run_now):
    text = "external_id,name\nd-1,First\nd-2,Other\nd-1,Second\n"
    imp = run_now(owner, upload(owner, csv_bytes(text)))
    assert (imp.created, imp.rejected) == (1, 2)
    found = reasons(imp)
    assert "duplicate key 'd-1'" in found[2] and "row 4" in found[2]
    assert "row 2" in found[4]
    assert not Account.objects.filter(external_id="d-1").exists()


def test_duplicates_across_chunks_are_found_too(owner, upload, run_now, settings):
    settings.TEND_IMPORT_CHUNK = 2
    text = "external_id,name\n" + "".join(f"k-{i},N{i}\n" for i in range(7)) + "k-0,Again\n"
    imp = run_now(owner, upload(owner, csv_bytes(text)))
    assert (imp.created, imp.rejected, imp.rows_done) == (6, 2, 8)
    assert set(reasons(imp)) == {2, 9}


def test_end_users_name_their_account_and_an_unknown_account_is_a_rejected_row(owner, upload, run_now):
    Account.objects.create(workspace=owner.workspace, external_id="a-1", name="Acme")
    text = "User ID,Account ID,Email,Name\nu-1,a-1,ann@acme.test,Ann\nu-2,nope,bob@acme.test,Bob\n"
    imp = upload(owner, csv_bytes(text), name="users.csv", object="user")
    assert imp.mapping == {"User ID": "external_id", "Account ID": "account_external_id", "Email": "email", "Name": "name"}
    imp = run_now(owner, imp)
    assert (imp.created, imp.rejected) == (1, 1)
    assert EndUser.objects.get(external_id="u-1").account.external_id == "a-1"
    assert "no account with external id 'nope'" in reasons(imp)[3]


def test_an_attribute_owned_by_another_source_is_not_overwritten(owner, plan, upload, run_now):
    Account.objects.create(workspace=owner.workspace, external_id="a-1", name="Acme", attributes={"plan": "silver"})
    actions.set_field_owner(owner.actor, "account", "plan", "CRM")
    imp = run_now(owner, upload(owner, csv_bytes("external_id,name,Plan\na-1,Acme Inc,gold\n")))
    acme = Account.objects.get(external_id="a-1")
    assert acme.name == "Acme Inc"
    assert acme.attributes == {"plan": "silver"}
    assert any("owned by CRM" in note for note in imp.notes)
    crm = run_now(owner, upload(owner, csv_bytes("external_id,Plan\na-1,gold\n"), source="CRM"))
    assert crm.updated == 1
    assert Account.objects.get(external_id="a-1").attributes == {"plan": "gold"}


def test_the_preview_shows_the_first_rows_as_stored_and_writes_nothing(owner, plan, upload):
    imp = upload(owner, csv_bytes(ACCOUNTS))
    rows = preview(imp)
    assert [r["status"] for r in rows] == ["created", "created", "rejected", "rejected"]
    assert rows[0]["values"] == ["a-1", "Acme", "gold", "2027-01-31"]
    assert "platinum" in rows[2]["reason"]
    assert not Account.objects.exists()


def test_a_dry_run_resolves_parents_created_by_earlier_chunks_as_the_run_does(owner, upload, run_now, settings):
    settings.TEND_IMPORT_CHUNK = 2
    text = (
        "external_id,name,parent\n"
        "p-1,Parent,\n"
        "p-2,Other parent,\n"
        "c-1,Child of p-1,p-1\n"   # next chunk: p-1 exists only because chunk 1 created it
        "c-2,Child of nobody,zz\n"
        "bad ,Rejected parent,\n"
        "c-3,Child of a rejected row,bad \n"
    )
    dry = run_now(owner, upload(owner, csv_bytes(text)), {"external_id": "external_id", "name": "name", "parent": "parent_external_id"}, dry_run=True)
    assert not Account.objects.exists()
    real = run_now(owner, upload(owner, csv_bytes(text)), {"external_id": "external_id", "name": "name", "parent": "parent_external_id"})
    assert (dry.created, dry.rejected) == (real.created, real.rejected) == (3, 3)
    assert set(reasons(dry)) == set(reasons(real)) == {5, 6, 7}
    assert Account.objects.get(external_id="c-1").parent.external_id == "p-1"


def test_contacts_are_imported_with_their_account_and_key_contact_flag(owner, upload, run_now):
    from tend.accounts.models import Contact

    Account.objects.create(workspace=owner.workspace, external_id="a-1", name="Acme")
    text = (
        "Contact ID,Account ID,Full name,Email,Title,Key contact\n"
        "k-1,a-1,Ann Lee,ann@acme.test,CTO,yes\n"
        "k-2,a-1,Bo Ray,bo@acme.test,,no\n"
        "k-3,a-1,Cy Fox,cy@acme.test,,maybe\n"
        "k-4,,No Account,,,\n"
    )
    imp = upload(owner, csv_bytes(text), name="contacts.csv", object="contact")
    assert imp.mapping == {
        "Contact ID": "external_id", "Account ID": "account_external_id", "Full name": "name",
        "Email": "email", "Title": "role", "Key contact": "is_key_contact",
    }
    assert preview(imp)[0]["values"] == ["k-1", "a-1", "Ann Lee", "ann@acme.test", "CTO", "yes"]
    imp = run_now(owner, imp)
    assert (imp.created, imp.rejected) == (2, 2)
    ann = Contact.objects.get(external_id="k-1")
    assert (ann.account.external_id, ann.role, ann.is_key_contact) == ("a-1", "CTO", True)
    assert Contact.objects.get(external_id="k-2").is_key_contact is False
    found = reasons(imp)
    assert "Key contact: expected true or false" in found[4]
    assert "Account ID: is required" in found[5]


def test_admins_and_the_importer_are_told_once_when_rows_are_rejected_and_not_for_a_dry_run(owner, practitioner, viewer, upload, run_now):
    from tend.notifications.models import Notification
    from tend.outbox.models import Message

    run_now(practitioner, upload(practitioner, csv_bytes("external_id,name\nm-1,\n")), dry_run=True)
    assert not Message.objects.exists() and not Notification.objects.exists()
    imp = run_now(practitioner, upload(practitioner, csv_bytes("external_id,name\nm-1,\nm-2,Fine\n")))
    message = Message.objects.get()
    assert sorted(message.to) == ["owner@acme.test", "practitioner@acme.test"]  # not the viewer
    assert message.subject == "Import of accounts.csv: 1 row rejected"
    assert f"/data/imports/{imp.pk}/" in message.text and "1 created" in message.text
    run_import(imp.pk)  # the job run again after a kill: no second email
    assert Message.objects.count() == 1
    # The same two see it under the bell, once, linking to the report.
    told = Notification.objects.order_by("member__user__email")
    assert [(n.member.user.email, n.kind, n.url) for n in told] == [
        ("owner@acme.test", "import", f"/data/imports/{imp.pk}/"),
        ("practitioner@acme.test", "import", f"/data/imports/{imp.pk}/"),
    ]


def test_admins_are_emailed_when_an_import_fails(owner, upload, run_now, import_dir):
    from tend.hub.jobs import run_import_job
    from tend.outbox.models import Message

    imp = upload(owner, csv_bytes("external_id,name\nm-1,One\n"))
    actions.set_mapping(owner.actor, imp, {"external_id": "external_id", "name": "name"})
    imp = actions.start_import(owner.actor, imp, dry_run=False)
    (import_dir / imp.stored_name).unlink()
    run_import_job(type("JobRow", (), {"payload": {"import_id": imp.pk}, "attempts": 1, "max_attempts": 5})())
    message = Message.objects.get()
    assert message.subject == "Import of accounts.csv failed" and "FileNotFoundError" in message.text
