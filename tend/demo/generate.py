"""The demo data set, generated as plain dicts from one seed.

Pure: no database. The same seed gives the same members, accounts, end users and contacts
on every run (``random.Random(seed)`` plus a Faker seeded from it), so the command can
rebuild the demo and tests can compare two builds. Dates are relative to ``today`` so
renewals stay upcoming whenever the demo is built.

The dicts are in the shapes the bulk upserts take (``tend.accounts.bulk``).
"""

import datetime
import random
import re
import unicodedata
from dataclasses import dataclass, field

from faker import Faker

from tend.demo import vocabulary as v

ACCOUNT_COUNT = 500
END_USER_COUNT = 5000
PARENT_COUNT = 15
# Most churned customers left in the last four months (their last months of usage are in the
# demo's usage, so the health back-test has something to look at); the rest earlier.
RECENT_CHURN_SHARE = 0.8
RECENT_CHURN_DAYS = (3, 120)
EARLIER_CHURN_DAYS = (121, 400)
# Customers younger than this started as trials and converted after a trial of a few weeks.
CONVERTED_WITHIN_DAYS = 400
TRIAL_DAYS = (14, 30)


@dataclass(frozen=True)
class DemoMember:
    email: str
    full_name: str
    seat: str
    title: str = ""


@dataclass
class DemoData:
    members: list[DemoMember] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)  # parents before their children
    end_users: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    # external id → (days since the account became a customer, days in its current stage)
    history: dict[str, tuple[int, int]] = field(default_factory=dict)
    # external id → the status it was created with, when its status changed since; and the
    # changes, oldest first: (external id, date, new status).
    first_status: dict[str, str] = field(default_factory=dict)
    status_changes: list[tuple[str, datetime.date, str]] = field(default_factory=list)

    @property
    def admin(self) -> DemoMember:
        return next(m for m in self.members if m.seat == "admin")


def ascii_slug(text: str, sep: str = ".") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", sep, plain).strip(sep)


def weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def build_members() -> list[DemoMember]:
    def email(name):
        return f"{ascii_slug(name)}@{v.DOMAIN}"

    # The seat names double as the login names: admin@, viewer@, contributor@.
    members = [
        DemoMember(f"{seat}@{v.DOMAIN}", name, seat, title)
        for seat, name, title in (v.ADMIN, v.VIEWER, v.CONTRIBUTOR)
    ]
    members += [DemoMember(email(n), n, "practitioner", "Customer Success Manager") for n in v.CSMS]
    members += [DemoMember(email(n), n, "practitioner", "Sales Manager") for n in v.SALES_MANAGERS]
    return members


class _Names:
    """Company names that look real and never repeat."""

    SUFFIXES = ["", "", "", " Inc.", " Ltd", " GmbH", " Group", " Co.", " LLC"]

    def __init__(self, rng: random.Random, fake: Faker):
        self.rng, self.fake, self.used = rng, fake, set()

    def company(self, industry: str) -> str:
        words = v.INDUSTRIES[industry]
        for _ in range(1000):
            pattern = self.rng.random()
            if pattern < 0.4:
                name = f"{self.fake.last_name()} {self.rng.choice(words)}"
            elif pattern < 0.75:
                stem = self.rng.choice(v.STEMS_A) + self.rng.choice(v.STEMS_B)
                name = stem + (f" {self.rng.choice(words)}" if self.rng.random() < 0.6 else "")
            else:
                name = f"{self.fake.last_name()} & {self.fake.last_name()}"
            name += self.rng.choice(self.SUFFIXES) if " " in name and "&" not in name else ""
            if name.lower() not in self.used:
                self.used.add(name.lower())
                return name
        raise RuntimeError("ran out of distinct company names")


def domain_for(name: str, used: set) -> str:
    base = ascii_slug(re.sub(r"\b(Inc|Ltd|GmbH|Group|Co|LLC)\b\.?", "", name), sep="")
    tld = ".com"
    domain = base + tld
    n = 2
    while domain in used:
        domain = f"{base}{n}{tld}"
        n += 1
    used.add(domain)
    return domain


def _account_attributes(rng: random.Random, status: str, today: datetime.date, size=None) -> dict:
    labels = [s[0] for s in v.COMPANY_SIZES]
    size = size or rng.choices(labels, weights=[s[1] for s in v.COMPANY_SIZES])[0]
    _, _, (low, high), plans = next(s for s in v.COMPANY_SIZES if s[0] == size)
    plan = "Starter" if status == "free" else weighted(rng, plans)
    licences = rng.randint(low, high)
    if plan == "Starter":
        licences = min(licences, v.STARTER_MAX_LICENCES)
    attrs = {
        "plan": plan,
        "company_size": size,
        # The usage app's default licence attribute: licence utilisation works out of the box.
        "licenses": licences,
    }
    if status in ("paying", "churned"):
        # List price less a negotiated discount, rounded as contracts are.
        value = licences * v.PRICE_PER_LICENCE[plan] * rng.uniform(0.75, 1.0)
        attrs["contract_value"] = int(round(value, -2)) or 100
    if status == "paying":
        attrs["renewal_date"] = (today + datetime.timedelta(days=rng.randint(5, 365))).isoformat()
    elif status == "churned":
        # The contract ended at its renewal: the day the customer churned.
        recent = rng.random() < RECENT_CHURN_SHARE
        days_ago = rng.randint(*(RECENT_CHURN_DAYS if recent else EARLIER_CHURN_DAYS))
        attrs["renewal_date"] = (today - datetime.timedelta(days=days_ago)).isoformat()
    elif status == "trial":
        attrs["renewal_date"] = (today + datetime.timedelta(days=rng.randint(3, 30))).isoformat()
    return attrs


def _stage(rng: random.Random, status: str) -> str | None:
    if status == "trial":
        return "Onboarding"
    if status == "free":
        return rng.choice(["Onboarding", "Adoption"])
    if status == "churned":
        return None
    return weighted(rng, v.PAYING_STAGE_WEIGHTS)


def _tags(rng: random.Random, status: str, attrs: dict) -> list[str]:
    tags = []
    if status == "churned" or status == "free":
        return tags
    if attrs["plan"] == "Enterprise" and rng.random() < 0.45:
        tags.append("strategic")
    if status == "paying" and rng.random() < 0.12:
        tags.append("at risk")
    if status in ("paying", "trial") and rng.random() < 0.13:
        tags.append("expansion")
    if status == "paying" and "at risk" not in tags and rng.random() < 0.07:
        tags.append("reference")
    return tags


def _status_history(
    rng: random.Random, data: DemoData, item: dict, age: int, today: datetime.date
) -> None:
    """Young customers converted from a trial; churned ones were paying until they left."""
    status, external_id = item["status"], item["external_id"]
    if status not in ("paying", "churned"):
        return
    changes = []
    if age <= CONVERTED_WITHIN_DAYS:
        converted = today - datetime.timedelta(days=age - rng.randint(*TRIAL_DAYS))
        changes.append((external_id, converted, "paying"))
    if status == "churned":
        churned_on = datetime.date.fromisoformat(item["attributes"]["renewal_date"])
        changes.append((external_id, churned_on, "churned"))
    if changes:
        data.first_status[external_id] = "trial" if age <= CONVERTED_WITHIN_DAYS else "paying"
        data.status_changes.extend(changes)


def build(seed: int = v.DEFAULT_SEED, today: datetime.date | None = None) -> DemoData:
    """The whole demo data set for ``seed``; see the module docstring."""
    today = today or datetime.date.today()
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    names = _Names(rng, fake)
    data = DemoData(members=build_members())

    csms = [m.email for m in data.members if m.title == "Customer Success Manager"]
    sales = [m.email for m in data.members if m.title == "Sales Manager"]
    contributor = next(m.email for m in data.members if m.seat == "contributor")
    domains: set[str] = set()
    account_domains: dict[str, str] = {}
    hex_ids: set[str] = set()

    def new_id(prefix: str) -> str:
        while True:
            value = f"{prefix}_{rng.getrandbits(40):010x}"
            if value not in hex_ids:
                hex_ids.add(value)
                return value

    def account(name, industry, region, status, parent=None, size=None) -> dict:
        attrs = _account_attributes(rng, status, today, size)
        domain = domain_for(name, domains)
        attrs.update(industry=industry, region=region, website=f"https://www.{domain}")
        item = {
            "external_id": new_id("acc"),
            "name": name,
            "status": status,
            "parent_external_id": parent["external_id"] if parent else None,
            "stage": _stage(rng, status),
            "tags": _tags(rng, status, attrs),
            "attributes": attrs,
            "assignments": {},
        }
        if status != "churned" or rng.random() < 0.5:
            item["assignments"]["success_manager"] = rng.choice(csms)
        if attrs["plan"] in ("Business", "Enterprise") and status != "churned":
            item["assignments"]["sales_manager"] = rng.choice(sales)
        account_domains[item["external_id"]] = domain
        age = rng.randint(15, 60) if status == "trial" else rng.randint(60, 2200)
        if status == "churned":
            # A customer for a while before it left.
            churned_on = datetime.date.fromisoformat(attrs["renewal_date"])
            age = max(age, (today - churned_on).days + rng.randint(120, 720))
        data.history[item["external_id"]] = (age, rng.randint(1, min(age, 400)))
        _status_history(rng, data, item, age, today)
        return item

    # Groups first: a parent company and its regional subsidiaries, all paying.
    children = []
    for _ in range(PARENT_COUNT):
        industry = rng.choice(list(v.INDUSTRIES))
        region = weighted(rng, v.REGIONS)
        parent = account(
            names.company(industry),
            industry,
            region,
            "paying",
            size=rng.choice(["201–1000", "1000+"]),
        )
        data.accounts.append(parent)
        places = set()
        for _ in range(rng.randint(2, 5)):
            child_region = weighted(rng, v.REGIONS)
            place = rng.choice(v.SUBSIDIARY_PLACES[child_region])
            if place in places:
                continue
            places.add(place)
            name = f"{parent['name']} {place}"
            names.used.add(name.lower())
            status = "paying" if rng.random() < 0.9 else "trial"
            children.append(account(name, industry, child_region, status, parent=parent))
    data.accounts.extend(children)

    while len(data.accounts) < ACCOUNT_COUNT:
        industry = rng.choice(list(v.INDUSTRIES))
        status = weighted(rng, v.STATUSES)
        data.accounts.append(
            account(names.company(industry), industry, weighted(rng, v.REGIONS), status)
        )

    # A contributor seat edits only what it is assigned: give it a small book of accounts.
    for item in rng.sample([a for a in data.accounts if a["status"] == "paying"], 12):
        item["assignments"]["success_manager"] = contributor

    data.end_users = _end_users(rng, fake, data.accounts, account_domains, new_id)
    data.contacts = _contacts(rng, fake, data.accounts, account_domains, new_id)
    data.status_changes.sort(key=lambda change: (change[1], change[0]))
    return data


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), at least one each."""
    scale = (total - len(weights)) / sum(weights)
    shares = [w * scale for w in weights]
    counts = [1 + int(s) for s in shares]
    leftover = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in order[:leftover]:
        counts[i] += 1
    return counts


def _person_email(first: str, last: str, domain: str, used: set) -> str:
    local = f"{ascii_slug(first)}.{ascii_slug(last)}"
    email, n = f"{local}@{domain}", 2
    while email in used:
        email, n = f"{local}{n}@{domain}", n + 1
    used.add(email)
    return email


def _end_users(rng, fake, accounts, account_domains, new_id) -> list[dict]:
    # Seats in use follow licences: paying customers fill most of theirs, trials are still
    # inviting people, churned accounts had thinned out before they left.
    fill = {"paying": (0.6, 1.05), "trial": (0.35, 0.8), "free": (0.4, 0.9), "churned": (0.2, 0.5)}
    weights = [a["attributes"]["licenses"] * rng.uniform(*fill[a["status"]]) for a in accounts]
    counts = _allocate(END_USER_COUNT, weights)
    users, used = [], set()
    for item, count in zip(accounts, counts, strict=True):
        domain = account_domains[item["external_id"]]
        for _ in range(count):
            first, last = fake.first_name(), fake.last_name()
            users.append(
                {
                    "external_id": new_id("usr"),
                    "account_external_id": item["external_id"],
                    "email": _person_email(first, last, domain, used),
                    "name": f"{first} {last}",
                    "attributes": {"job_title": rng.choice(v.JOB_TITLES)},
                }
            )
    return users


def _contacts(rng, fake, accounts, account_domains, new_id) -> list[dict]:
    contacts, used = [], set()
    for item in accounts:
        domain = account_domains[item["external_id"]]
        roles = rng.sample(v.CONTACT_ROLES, rng.randint(1, 4))
        for i, role in enumerate(roles):
            first, last = fake.first_name(), fake.last_name()
            contacts.append(
                {
                    "external_id": new_id("con"),
                    "account_external_id": item["external_id"],
                    "name": f"{first} {last}",
                    "email": _person_email(first, last, domain, used),
                    "phone": fake.numerify(v.PHONE_FORMATS[item["attributes"]["region"]]),
                    "role": role,
                    "is_key_contact": i == 0,
                }
            )
    return contacts
