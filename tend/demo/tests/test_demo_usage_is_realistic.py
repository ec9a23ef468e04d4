"""The usage generator alone (no database): six months that look like a real B2B SaaS base."""

import collections
import datetime
import functools
import statistics

from tend.demo import generate, usage
from tend.demo import vocabulary as v
from tend.lib.dates import MS_PER_DAY, date_of, day_number
from tend.usage.metrics import visit_frequency

TODAY = datetime.date(2026, 11, 22)
T = day_number(TODAY)
NOW_MS = T * MS_PER_DAY + 15 * 3_600_000  # 15:00 UTC


@functools.cache
def demo() -> tuple[generate.DemoData, usage.DemoUsage, list[usage.DemoEvent]]:
    data = generate.build(seed=v.DEFAULT_SEED, today=TODAY)
    plan = usage.build(data, v.DEFAULT_SEED, TODAY, now_ms=NOW_MS)
    return data, plan, list(plan.events())


@functools.cache
def days_of() -> dict[str, collections.Counter]:
    """Account external id → events per UTC day (the demo workspace's days)."""
    days = collections.defaultdict(collections.Counter)
    for event in demo()[2]:
        days[event.account][event.ts // MS_PER_DAY] += 1
    return days


def accounts(status: str | None = None, trajectory: str | None = None) -> list[usage.AccountPlan]:
    return [
        p
        for p in demo()[1].accounts
        if (status is None or p.status == status)
        and (trajectory is None or p.trajectory == trajectory)
    ]


def events_between(plan: usage.AccountPlan, first: int, last: int) -> int:
    """Events of an account on the days ``first``..``last`` back from today (0 = today)."""
    return sum(n for day, n in days_of()[plan.external_id].items() if T - last <= day <= T - first)


def frequency(plan: usage.AccountPlan) -> str:
    """Visit frequency by the usage app's own rule, from the generated days."""
    days = days_of()[plan.external_id]
    week1 = sum(1 for d in days if d > T - 7)
    week2 = sum(1 for d in days if T - 14 < d <= T - 7)
    last_30 = sum(n for d, n in days.items() if d > T - 30)
    return visit_frequency([week1 + week2], [week1], [week2], [last_30])[0]


def test_six_months_hold_700_thousand_to_a_million_events_and_none_after_now():
    events = demo()[2]
    assert usage.DAYS == 180
    assert 700_000 <= len(events) <= 1_000_000
    first = min(e.ts for e in events) // MS_PER_DAY
    assert T - usage.DAYS <= first <= T - usage.DAYS + 1  # local days start a few hours early
    assert max(e.ts for e in events) <= NOW_MS
    assert any(e.ts // MS_PER_DAY == T for e in events)


def test_weekdays_are_several_times_busier_than_weekends():
    per_weekday = collections.Counter()
    for event in demo()[2]:
        per_weekday[date_of(event.ts // MS_PER_DAY).weekday() >= 5] += 1
    weekday_average = per_weekday[False] / 5
    weekend_average = per_weekday[True] / 2
    assert weekend_average > 0
    assert weekday_average > 5 * weekend_average


def test_people_work_in_the_working_hours_of_their_accounts_region():
    data, plan, events = demo()
    offsets = {p.external_id: p.utc_offset for p in plan.accounts}
    regions = {a["external_id"]: a["attributes"]["region"] for a in data.accounts}
    local_hours = collections.Counter()
    utc_hours = collections.defaultdict(collections.Counter)
    for event in events:
        hour = event.ts // 3_600_000 % 24
        local_hours[(hour + offsets[event.account]) % 24] += 1
        utc_hours[regions[event.account]][hour] += 1
    office = sum(local_hours[h] for h in range(7, 19))
    assert office > 0.85 * len(events)

    def busiest(region):
        return utc_hours[region].most_common(1)[0][0]

    assert 0 <= busiest("APAC") <= 8 or busiest("APAC") >= 22
    assert 7 <= busiest("EMEA") <= 14
    assert 13 <= busiest("North America") <= 23


def test_every_visit_frequency_is_well_represented_among_paying_accounts():
    paying = accounts("paying")
    frequencies = collections.Counter(frequency(p) for p in paying)
    assert set(frequencies) == {"daily", "weekly", "occasionally", "inactive"}
    for name, count in frequencies.items():
        assert count >= 0.05 * len(paying), (name, frequencies)
    assert frequencies["daily"] == max(frequencies.values())


def test_a_few_paying_accounts_fell_silent_between_14_and_40_days_ago():
    paying = accounts("paying")
    silent = [p for p in paying if events_between(p, 0, 13) == 0 and days_of()[p.external_id]]
    assert 0.04 * len(paying) <= len(silent) <= 0.2 * len(paying)
    last_seen = []
    for plan in accounts("paying", "silent"):
        assert plan in silent
        last_seen.append(T - max(days_of()[plan.external_id]))
    # Small accounts may have gone quiet a few days before their last planned day.
    assert sum(14 <= days <= 41 for days in last_seen) >= 0.8 * len(last_seen)
    assert len(set(last_seen)) > 10  # not all on the same day


def test_churned_accounts_fade_to_nothing_before_they_churn():
    data = demo()[0]
    churned_on = {
        a["external_id"]: datetime.date.fromisoformat(a["attributes"]["renewal_date"])
        for a in data.accounts
        if a["status"] == "churned"
    }
    last_ten, month_before = 0, 0
    for plan in accounts("churned"):
        days = days_of()[plan.external_id]
        assert not any(d > T - 14 for d in days), plan.external_id
        assert not any(d > day_number(churned_on[plan.external_id]) for d in days)
        end = plan.last_active_day
        if end is not None and end >= 40:
            back = usage.DAYS - 1 - end
            last_ten += events_between(plan, back, back + 9)
            month_before += events_between(plan, back + 30, back + 39)
    assert month_before > 0, "some accounts churned within the window"
    assert last_ten < 0.4 * month_before


def test_trials_start_when_created_and_then_take_off_or_fizzle():
    data = demo()[0]
    for plan in accounts("trial"):
        age, _ = data.history[plan.external_id]
        days = days_of()[plan.external_id]
        assert all(d >= T - age - 1 for d in days), plan.external_id
    taking_off = [frequency(p) for p in accounts("trial", "taking off")]
    fizzled = [events_between(p, 0, 13) for p in accounts("trial", "fizzling")]
    assert taking_off.count("daily") >= len(taking_off) / 2
    assert fizzled.count(0) >= len(fizzled) / 2


def test_growing_accounts_grow_and_declining_accounts_decline():
    def first_and_last_month(trajectory):
        plans = accounts("paying", trajectory)
        first = sum(events_between(p, usage.DAYS - 30, usage.DAYS - 1) for p in plans)
        last = sum(events_between(p, 0, 29) for p in plans)
        return first, last

    first, last = first_and_last_month("growing")
    assert last > 1.5 * first
    first, last = first_and_last_month("declining")
    assert last < 0.6 * first
    first, last = first_and_last_month("steady")
    assert 0.75 * first < last < 1.33 * first


def test_a_few_heavy_users_do_most_of_the_work_and_many_come_now_and_then():
    per_user = collections.defaultdict(collections.Counter)
    active_days = collections.defaultdict(set)
    for event in demo()[2]:
        per_user[event.account][event.user] += 1
        active_days[event.user].add(event.ts // MS_PER_DAY)
    shares = []
    for counts in per_user.values():
        if len(counts) >= 10:
            ranked = sorted(counts.values(), reverse=True)
            shares.append(sum(ranked[: len(ranked) // 5]) / sum(ranked))
    assert len(shares) >= 100
    assert statistics.median(shares) > 0.6  # the top fifth of users do most of the work
    days = sorted(len(d) for d in active_days.values())
    assert statistics.median(days) < 24  # most people come by now and then (twice a month)
    assert days[int(0.98 * len(days))] > 45  # and a few are in the product every working day


def test_new_users_appear_over_the_window_and_an_admin_invites_them():
    data, _, events = demo()
    first_seen = {}
    account_of = {u["external_id"]: u["account_external_id"] for u in data.end_users}
    invited = []
    for event in events:
        first_seen.setdefault(event.user, event.ts // MS_PER_DAY)
        if event.activity == v.INVITED_USER:
            invited.append((event.account, event.properties["invited_user"], event.ts))
    late = [u for u, day in first_seen.items() if day > T - usage.DAYS + 30]
    assert len(late) > 0.1 * len(first_seen)
    assert len(invited) > 200
    for account, user, _ in invited:
        assert account_of[user] == account


def test_bigger_companies_use_the_product_more():
    data = demo()[0]
    size = {a["external_id"]: a["attributes"]["company_size"] for a in data.accounts}
    volumes = collections.defaultdict(list)
    for plan in accounts("paying", "steady"):
        volumes[size[plan.external_id]].append(events_between(plan, 0, usage.DAYS))
    medians = [statistics.median(volumes[s]) for s, *_ in v.COMPANY_SIZES]
    assert medians == sorted(medians)
    assert medians[-1] > 5 * medians[0]


def test_every_session_opens_with_a_login_that_carries_its_length():
    events = demo()[2]
    logins = [e for e in events if e.activity == v.LOGIN]
    assert len(logins) > 0.08 * len(events)
    assert all(e.duration and 20 <= e.duration < 4 * 3600 for e in logins)
    assert all(e.duration is None for e in events if e.activity != v.LOGIN)
    assert 5 * 60 < statistics.median(e.duration for e in logins) < 30 * 60


def test_accounts_use_the_products_modules_and_dashboards_most():
    events = demo()[2]
    modules = collections.Counter(e.module for e in events if e.module)
    assert set(modules) == {*v.PRODUCT, v.ADMIN_MODULE}
    assert modules.most_common(1)[0][0] == "Dashboards"
    assert len({e.activity for e in events}) >= 20
    adopted = collections.Counter(len(p.modules) for p in accounts("paying"))
    assert len(adopted) >= 4  # some use one or two modules, others all five


def test_paying_accounts_report_daily_api_calls_and_slowly_growing_storage():
    plan = demo()[1]
    series = collections.defaultdict(list)
    for fact in plan.metrics():
        series[(fact.account, fact.metric)].append((fact.day, fact.value))
    paying = {p.external_id: p for p in accounts("paying")}
    churned = {p.external_id: p for p in accounts("churned") if p.churn > max(p.start, 0)}
    assert {account for account, _ in series} == set(paying) | set(churned)
    for (account, metric), points in series.items():
        days = [day for day, _ in points]
        if account in churned:
            # Up to the day before it churned.
            end = T - usage.DAYS + 1 + churned[account].churn
            assert days == list(range(end - len(days), end))
            continue
        assert days == list(range(T - len(days), T))  # daily, up to yesterday
        if paying[account].start == 0:
            assert len(days) == usage.DAYS - 1
        values = [value for _, value in points]
        if metric == "storage_gb":
            assert values == sorted(values)
            assert values[-1] < 2 * values[0]
        else:
            assert metric == "api_calls" and min(values) >= 0
    silent = accounts("paying", "silent")
    assert all(dict(series[(p.external_id, "api_calls")])[T - 1] == 0 for p in silent)


def test_the_same_seed_gives_the_same_usage_and_another_seed_other_usage():
    data, plan, events = demo()
    again = usage.build(data, v.DEFAULT_SEED, TODAY, now_ms=NOW_MS)
    assert list(again.events()) == events
    assert list(again.metrics()) == list(plan.metrics())
    other = usage.build(data, 7, TODAY, now_ms=NOW_MS)
    some = other.accounts[:20]
    assert [other.account_events(p) for p in some] != [
        plan.account_events(p) for p in plan.accounts[:20]
    ]


def test_churned_accounts_send_fewer_api_calls_as_they_fade():
    plan = demo()[1]
    calls = collections.defaultdict(dict)
    for fact in plan.metrics():
        if fact.metric == "api_calls":
            calls[fact.account][fact.day] = fact.value
    falling = []
    for churned in accounts("churned"):
        churn_day = T - usage.DAYS + 1 + churned.churn
        if churned.churn - 90 < churned.start or churned.churn <= 0:
            continue
        days = calls[churned.external_id]
        before = sum(days.get(d, 0) for d in range(churn_day - 90, churn_day - 60))
        last = sum(days.get(d, 0) for d in range(churn_day - 30, churn_day))
        falling.append(last < 0.5 * before)
    assert len(falling) >= 10
    assert sum(falling) >= 0.8 * len(falling)
