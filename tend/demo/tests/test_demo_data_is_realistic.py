"""The generator alone (no database): the shape of the demo data set."""

import collections
import datetime
import functools

from tend.demo import generate
from tend.demo import vocabulary as v

TODAY = datetime.date(2026, 11, 22)


@functools.cache
def build():
    return generate.build(seed=v.DEFAULT_SEED, today=TODAY)


def test_it_generates_500_accounts_with_distinct_names_and_external_ids():
    data = build()
    assert len(data.accounts) == 500
    assert len({a["name"].lower() for a in data.accounts}) == 500
    assert len({a["external_id"] for a in data.accounts}) == 500


def test_most_accounts_pay_and_every_status_appears():
    statuses = collections.Counter(a["status"] for a in build().accounts)
    assert set(statuses) == {"paying", "trial", "churned", "free"}
    assert statuses["paying"] > 250
    assert statuses["free"] < statuses["trial"]


def test_parents_come_before_their_children_and_have_two_to_five_of_them():
    accounts = build().accounts
    position = {a["external_id"]: i for i, a in enumerate(accounts)}
    children = collections.Counter(
        a["parent_external_id"] for a in accounts if a["parent_external_id"]
    )
    assert len(children) == generate.PARENT_COUNT
    assert all(1 <= n <= 5 for n in children.values())
    assert sum(n >= 2 for n in children.values()) >= 10
    for item in accounts:
        if item["parent_external_id"]:
            assert position[item["parent_external_id"]] < position[item["external_id"]]


def test_contract_value_grows_with_the_plan():
    by_plan = collections.defaultdict(list)
    for item in build().accounts:
        if "contract_value" in item["attributes"]:
            by_plan[item["attributes"]["plan"]].append(item["attributes"]["contract_value"])
    means = [sum(by_plan[p]) / len(by_plan[p]) for p in v.PLANS]
    assert means == sorted(means)
    assert means[-1] > 10 * means[0]


def test_paying_accounts_renew_in_the_coming_year_and_churned_ones_did_not():
    for item in build().accounts:
        renewal = item["attributes"].get("renewal_date")
        if item["status"] == "paying":
            assert (
                TODAY < datetime.date.fromisoformat(renewal) <= TODAY + datetime.timedelta(days=366)
            )
        elif item["status"] == "churned":
            assert datetime.date.fromisoformat(renewal) < TODAY


def test_people_use_the_company_domain_and_every_account_has_one_key_contact():
    data = build()
    domains = {
        a["external_id"]: a["attributes"]["website"].removeprefix("https://www.")
        for a in data.accounts
    }
    assert 4500 <= len(data.end_users) <= 5500
    assert len({u["email"] for u in data.end_users}) == len(data.end_users)
    for user in data.end_users:
        assert user["email"].endswith("@" + domains[user["account_external_id"]])
    key_contacts = collections.Counter(
        c["account_external_id"] for c in data.contacts if c["is_key_contact"]
    )
    assert set(key_contacts) == set(domains)
    assert set(key_contacts.values()) == {1}
    assert {c["role"] for c in data.contacts} == set(v.CONTACT_ROLES)


def test_the_team_has_eight_csms_two_sales_managers_and_one_member_of_each_other_seat():
    members = build().members
    titles = collections.Counter(m.title for m in members)
    assert titles["Customer Success Manager"] == 8
    assert titles["Sales Manager"] == 2
    seats = collections.Counter(m.seat for m in members)
    assert seats == {"practitioner": 10, "admin": 1, "viewer": 1, "contributor": 1}
    assert all(m.email.endswith("@demo.tend.dev") and m.email.isascii() for m in members)


def test_another_seed_gives_other_data_and_the_same_seed_the_same():
    again = generate.build(seed=v.DEFAULT_SEED, today=TODAY)
    assert again.accounts == build().accounts
    assert again.end_users == build().end_users
    assert again.contacts == build().contacts
    assert generate.build(seed=7, today=TODAY).accounts != build().accounts


def test_paying_customers_have_end_users_for_most_of_their_licenses():
    data = build()
    users = collections.Counter(u["account_external_id"] for u in data.end_users)
    fill = sorted(
        users[a["external_id"]] / a["attributes"]["licenses"]
        for a in data.accounts
        if a["status"] == "paying"
    )
    assert 0.6 <= fill[len(fill) // 2] <= 0.95
    assert fill[len(fill) // 10] >= 0.4
    assert fill[int(0.95 * len(fill))] <= 1.15  # a few small accounts squeeze in one more


def test_a_few_dozen_customers_churned_at_their_renewal_most_in_the_last_four_months():
    data = build()
    changes = collections.defaultdict(list)
    for external_id, date, status in data.status_changes:
        changes[external_id].append((date, status))
    churned = [a for a in data.accounts if a["status"] == "churned"]
    assert 30 <= len(churned) <= 80
    recent = 0
    for item in churned:
        churned_on = datetime.date.fromisoformat(item["attributes"]["renewal_date"])
        history = changes[item["external_id"]]
        assert history[-1] == (churned_on, "churned")
        assert data.first_status[item["external_id"]] in ("paying", "trial")
        age, _ = data.history[item["external_id"]]
        assert (TODAY - churned_on).days + 90 <= age  # a customer for months before it left
        recent += (TODAY - churned_on).days <= 120
    assert recent >= 0.7 * len(churned)
    assert data.status_changes == sorted(data.status_changes, key=lambda c: (c[1], c[0]))


def test_young_customers_converted_from_a_trial_of_a_few_weeks():
    data = build()
    converted = {e: d for e, d, status in data.status_changes if status == "paying"}
    young = [
        a
        for a in data.accounts
        if a["status"] == "paying" and data.history[a["external_id"]][0] <= 400
    ]
    assert len(young) >= 20
    for item in young:
        age, _ = data.history[item["external_id"]]
        assert data.first_status[item["external_id"]] == "trial"
        trial_days = age - (TODAY - converted[item["external_id"]]).days
        assert 14 <= trial_days <= 30
    old = [a for a in data.accounts if a["status"] == "paying" and a not in young]
    assert not any(a["external_id"] in data.first_status for a in old)
