"""Six months of product usage for the demo accounts, generated from the seed.

Pure, like :mod:`tend.demo.generate`: no database. Every account draws from random streams of
its own, seeded by the demo seed and its external id, so the same seed gives the same events
in whatever order they are read, and an account's usage does not shift when another's does.
Days are relative to ``today``; nothing is generated after ``now``.

How the usage is shaped, account by account:

1. **A trajectory**, chosen from status, stage, tags and age, gives a daily *intensity*
   (about 1 for a healthy account, 0 for none): paying accounts are mostly steady or growing,
   some decline, a few fell silent 14–40 days ago (the at-risk accounts a CSM must spot);
   trials start on the day they were created and then take off or fizzle out; churned
   accounts fade over two or three months and fall silent weeks before their contract ends;
   free accounts are light.
2. **People.** Each end user gets a Pareto weight, so a few heavy users do most of the work
   and many come by now and then. Some join during the window (an admin invites them that
   day); in declining accounts some stop coming. The account's first user is its admin.
3. **Days.** A user is active on a day with a probability of weight × intensity, far lower
   at weekends. An active day has one to three sessions in the account's working hours
   (local time of its region); each session opens with "Logged in", which carries the
   session's length as its duration, and goes on with activities from the modules the
   account has adopted.
4. **Custom metrics** for paying accounts, and for churned ones until they churned:
   ``api_calls`` per day (following the intensity, quieter at weekends) and ``storage_gb``,
   growing slowly.
"""

import datetime
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from tend.demo import vocabulary as v
from tend.demo.generate import DemoData, weighted
from tend.lib.dates import MS_PER_DAY, date_of, day_number
from tend.usage.ingest.facts import EventFact, MetricFact

# Six months: health history replays the last 90 days, each needing the month before it for
# its windows, and the back-test scores accounts up to 90 days before they churned.
DAYS = 180
# Chance of an active working day per unit of a user's weight (capped near every day).
ACTIVE_PER_WEIGHT = 0.075
MAX_DAILY_CHANCE = 0.95
WEEKEND_FACTOR = 0.08
# Pareto shape of users' weights: about the 80/20 rule; capped so no one is superhuman.
PARETO_ALPHA = 1.16
MAX_WEIGHT = 18.0
# The last day of a silent account's activity is this many days back, at least and at most.
# 15, not 14: late evening in the Americas is already the next day in UTC.
SILENT_DAYS = (15, 40)
# Churned accounts stop at least this many days before today; they fall silent this many days
# before they churn, after fading over this many days.
CHURN_QUIET_DAYS = 15
CHURN_SILENT_BEFORE = (10, 40)
CHURN_FADE_DAYS = (45, 100)

PAYING_TRAJECTORIES = {"steady": 55, "growing": 20, "declining": 13, "silent": 12}
TRIAL_TRAJECTORIES = {"taking off": 55, "fizzling": 45}
# Share of an existing account's users who join during the window, by trajectory.
JOINING = {"growing": 0.4, "steady": 0.12, "light": 0.15}
# Share of a declining account's users who stop coming at some point.
LEAVING = 0.35


class DemoEvent(NamedTuple):
    account: str
    user: str
    activity: str
    module: str
    ts: int  # epoch ms, UTC
    duration: float | None = None
    properties: dict | None = None

    def fact(self, index: int) -> EventFact:
        return EventFact(
            index=index,
            account=self.account,
            user=self.user,
            activity=self.activity,
            module=self.module,
            ts=self.ts,
            properties=self.properties,
            duration=self.duration,
        )


@dataclass
class UserPlan:
    external_id: str
    weight: float
    joins: int  # the first day (index in the window) they can be active
    leaves: int  # the day from which they no longer come
    admin: bool = False


@dataclass
class AccountPlan:
    external_id: str
    status: str
    trajectory: str
    licenses: int
    utc_offset: int  # hours: working hours are local to the account's region
    intensity: list[float]  # per day of the window, oldest first
    modules: dict[str, float]  # adopted module → how much the account leans on it
    integrations: list[str]
    users: list[UserPlan]
    start: int  # the first day of the window the account is a customer or trial
    churn: int | None = None  # the day of the window it churned (may be before the window)

    @property
    def last_active_day(self) -> int | None:
        """The last day of the window with any intensity (None: none at all)."""
        return max((i for i, x in enumerate(self.intensity) if x > 0), default=None)


@dataclass
class DemoUsage:
    """The usage plan of every account; events and metrics are generated on demand."""

    seed: int
    today: datetime.date
    now_ms: int
    days: int
    accounts: list[AccountPlan]

    @property
    def first_day(self) -> int:
        """Day number (UTC) of the window's first day."""
        return day_number(self.today) - self.days + 1

    def events(self) -> Iterator[DemoEvent]:
        """Every account's events, account by account, each account's in time order."""
        for plan in self.accounts:
            yield from self.account_events(plan)

    def account_events(self, plan: AccountPlan) -> list[DemoEvent]:
        rng = random.Random(f"{self.seed}:events:{plan.external_id}")
        events = _account_events(rng, plan, self.first_day)
        events.sort(key=lambda e: e.ts)
        return [e for e in events if e.ts <= self.now_ms]

    def metrics(self) -> Iterator[MetricFact]:
        """``api_calls`` and ``storage_gb`` per paying account and day, up to yesterday, and
        per churned account up to the day before it churned."""
        for plan in self.accounts:
            if plan.status in ("paying", "churned"):
                rng = random.Random(f"{self.seed}:metrics:{plan.external_id}")
                yield from _account_metrics(rng, plan, self.first_day)


def build(
    data: DemoData,
    seed: int,
    today: datetime.date,
    now_ms: int | None = None,
    days: int | None = None,
) -> DemoUsage:
    """The usage plan of ``data``'s accounts over the ``days`` (default :data:`DAYS`) up to
    ``today``, cut at ``now_ms`` (default: the end of ``today``)."""
    days = days or DAYS
    if now_ms is None:
        now_ms = (day_number(today) + 1) * MS_PER_DAY - 1
    users = defaultdict(list)
    for user in data.end_users:
        users[user["account_external_id"]].append(user["external_id"])
    plans = []
    for item in data.accounts:
        rng = random.Random(f"{seed}:plan:{item['external_id']}")
        age, _ = data.history[item["external_id"]]
        plans.append(_plan(rng, item, age, users[item["external_id"]], today, days))
    return DemoUsage(seed=seed, today=today, now_ms=now_ms, days=days, accounts=plans)


# --- 1. trajectories ------------------------------------------------------------------------


def _trajectory(rng: random.Random, item: dict, age: int, days: int) -> str:
    status = item["status"]
    if status == "trial":
        return weighted(rng, TRIAL_TRAJECTORIES)
    if status == "free":
        return "light"
    if status == "churned":
        return "churning"
    weights = dict(PAYING_TRAJECTORIES)
    if item["stage"] == "Onboarding" or age < days:
        weights["growing"] *= 3
    if item["stage"] == "Advocate":
        weights["silent"] = 0
        weights["declining"] *= 0.3
    if item["stage"] == "Renewal":
        weights["declining"] *= 1.5
    if "at risk" in item["tags"]:
        weights["declining"] *= 4
        weights["silent"] *= 4
    if "expansion" in item["tags"]:
        weights["growing"] *= 3
    return weighted(rng, weights)


def _intensity(
    rng: random.Random, trajectory: str, start: int, churn: int | None, days: int
) -> list[float]:
    """The account's daily intensity over the window, 0 before ``start``."""
    # Weeks are never quite alike: a holiday, a quarter's end, a project.
    weeks = [rng.uniform(0.85, 1.15) for _ in range(days // 7 + 1)]
    span = max(1, days - 1 - start)
    curve = [0.0] * days
    if trajectory == "steady":
        level = rng.uniform(0.8, 1.2)
        shape = [level] * days
    elif trajectory == "growing":
        low, high = rng.uniform(0.3, 0.6), rng.uniform(1.2, 1.6)
        shape = [low + (high - low) * max(0, i - start) / span for i in range(days)]
    elif trajectory == "declining":
        onset = rng.randint(start, start + span // 2)
        floor = rng.uniform(0.1, 0.35)
        shape = [
            1.0 if i < onset else 1.0 - (1.0 - floor) * (i - onset) / max(1, days - 1 - onset)
            for i in range(days)
        ]
    elif trajectory == "silent":
        last = days - 1 - rng.randint(*SILENT_DAYS)
        # Already drifting down in the weeks before it stopped.
        shape = [0.0 if i > last else (0.9 if last - i > 14 else 0.55) for i in range(days)]
    elif trajectory == "taking off":
        level = rng.uniform(1.1, 1.6)
        shape = [level] * days
    elif trajectory == "fizzling":
        tau = rng.uniform(3, 10)
        shape = [math.exp(-max(0, i - start) / tau) for i in range(days)]
        shape = [x if x >= 0.03 else 0.0 for x in shape]
    elif trajectory == "light":
        level = rng.uniform(0.15, 0.5)
        shape = [level] * days
    else:  # churning: fading to nothing, then silent until the churn date
        silent = rng.randint(*CHURN_SILENT_BEFORE)
        last = churn - silent if churn is not None else -1
        end = min(last, days - 1 - CHURN_QUIET_DAYS)
        fade = rng.randint(*CHURN_FADE_DAYS)
        level = rng.uniform(0.6, 1.0)
        shape = [0.0 if i > end else level * min(1.0, (end - i + 1) / fade) for i in range(days)]
    # New accounts ramp up over their first weeks (trials faster: they are evaluating).
    ramp = rng.randint(3, 8) if trajectory in TRIAL_TRAJECTORIES else rng.randint(7, 21)
    for i in range(start, days):
        onboarding = min(1.0, (i - start + 1) / ramp) if start > 0 else 1.0
        if trajectory == "fizzling":
            onboarding = 1.0
        curve[i] = shape[i] * weeks[i // 7] * onboarding
    return curve


def _plan(
    rng: random.Random,
    item: dict,
    age: int,
    user_ids: list[str],
    today: datetime.date,
    days: int,
) -> AccountPlan:
    attrs = item["attributes"]
    trajectory = _trajectory(rng, item, age, days)
    start = max(0, days - 1 - age)  # the index of the day it was created
    churn = None
    if item["status"] == "churned":
        churned_on = datetime.date.fromisoformat(attrs["renewal_date"])
        churn = days - 1 - (today - churned_on).days
    intensity = _intensity(rng, trajectory, start, churn, days)

    big = attrs["plan"] in ("Business", "Enterprise")
    modules = {
        module: activity * rng.uniform(0.5, 1.5)
        for module, (share, extra, activity) in v.MODULE_ADOPTION.items()
        if rng.random() < share + (extra if big else 0)
    }
    if trajectory == "fizzling":
        modules = {"Dashboards": 0.42}  # they never got past the first screen
    integrations = rng.sample(v.INTEGRATIONS, rng.randint(1, 3))

    users = []
    joining = JOINING.get(trajectory, 0.03)
    for n, external_id in enumerate(user_ids):
        weight = min(rng.paretovariate(PARETO_ALPHA), MAX_WEIGHT)
        if start > 0:
            # A new account: the champion first, then the colleagues they invite.
            joins = start if n == 0 else min(days, start + 1 + int(rng.expovariate(1 / 10)))
        else:
            joins = rng.randint(1, days - 1) if rng.random() < joining else 0
        leaves = days
        if trajectory == "declining" and n > 0 and rng.random() < LEAVING:
            leaves = rng.randint(days // 3, days - 1)
        users.append(UserPlan(external_id, weight, joins, leaves, admin=n == 0))
    if users:
        # Admins keep the account running: never among the rarely seen.
        users[0].weight = max(users[0].weight, 4.0)

    return AccountPlan(
        external_id=item["external_id"],
        status=item["status"],
        trajectory=trajectory,
        licenses=attrs["licenses"],
        utc_offset=rng.choice(v.REGION_UTC_OFFSETS[attrs["region"]]),
        intensity=intensity,
        modules=modules,
        integrations=integrations,
        users=users,
        start=start,
        churn=churn,
    )


# --- 2. events ------------------------------------------------------------------------------

_HOURS = list(range(24))
_HOUR_CUM = list(itertools.accumulate(v.HOUR_WEIGHTS))


def _activity_table(plan: AccountPlan) -> tuple[list[tuple[str, str]], list[float]]:
    """(module, activity) pairs of the account's modules with cumulative weights."""
    pairs, weights = [], []
    for module, emphasis in plan.modules.items():
        activities = v.PRODUCT[module]
        total = sum(activities.values())
        for activity, weight in activities.items():
            pairs.append((module, activity))
            weights.append(emphasis * weight / total)
    return pairs, list(itertools.accumulate(weights))


def _properties(rng: random.Random, plan: AccountPlan, activity: str) -> dict | None:
    if activity == "Exported report":
        return {"format": weighted(rng, v.EXPORT_FORMATS)}
    if activity in ("Synced data source", "Connected integration"):
        return {"integration": rng.choice(plan.integrations)}
    return None


def _account_events(rng: random.Random, plan: AccountPlan, first_day: int) -> list[DemoEvent]:
    """Steps 2–3 of the module docstring for one account (not yet sorted by time)."""
    events: list[DemoEvent] = []
    if not plan.users or not any(plan.intensity):
        return events
    pairs, cum = _activity_table(plan)
    admin = plan.users[0]
    offset_ms = plan.utc_offset * 3_600_000
    ext = plan.external_id
    random_, choices, expovariate = rng.random, rng.choices, rng.expovariate
    admin_activities, admin_cum = (
        list(v.ADMIN_ACTIVITIES),
        list(itertools.accumulate(v.ADMIN_ACTIVITIES.values())),
    )
    joined_on = defaultdict(list)
    for user in plan.users[1:]:
        joined_on[user.joins].append(user)

    def moment(day_ms: int) -> int:
        """A local working-hours instant of the day, as epoch ms (UTC)."""
        hour = choices(_HOURS, cum_weights=_HOUR_CUM)[0]
        return day_ms + hour * 3_600_000 + int(random_() * 3_600_000)

    for i, intensity in enumerate(plan.intensity):
        if intensity <= 0:
            continue
        day = first_day + i
        day_ms = day * MS_PER_DAY - offset_ms  # local midnight
        weekend = date_of(day).weekday() >= 5
        factor = intensity * (WEEKEND_FACTOR if weekend else 1.0)
        # The admin invites the people who join the account today.
        if i > admin.joins:
            for user in joined_on.get(i, ()):
                invite = DemoEvent(
                    ext, admin.external_id, v.INVITED_USER, v.ADMIN_MODULE, moment(day_ms)
                )
                events.append(invite._replace(properties={"invited_user": user.external_id}))
        for user in plan.users:
            if i < user.joins or i >= user.leaves:
                continue
            chance = min(MAX_DAILY_CHANCE, ACTIVE_PER_WEIGHT * user.weight) * factor
            if random_() >= chance:
                continue
            weight = user.weight
            sessions = (
                1 + (random_() < min(0.6, 0.04 * weight)) + (random_() < min(0.3, 0.02 * weight))
            )
            for _ in range(sessions):
                start = moment(day_ms)
                ts = start
                count = 1 + min(40, int(expovariate(1 / (1.0 + 0.4 * weight))))
                for module, activity in choices(pairs, cum_weights=cum, k=count):
                    ts += 5_000 + int(expovariate(1 / 75_000))
                    properties = (
                        _properties(rng, plan, activity)
                        if module in ("Reports", "Integrations")
                        else None
                    )
                    events.append(
                        DemoEvent(ext, user.external_id, activity, module, ts, None, properties)
                    )
                if user.admin and random_() < 0.05:
                    ts += 5_000 + int(expovariate(1 / 60_000))
                    activity = choices(admin_activities, cum_weights=admin_cum)[0]
                    events.append(DemoEvent(ext, user.external_id, activity, v.ADMIN_MODULE, ts))
                # The session's length: up to the last activity, plus a while on its screen.
                seconds = round((ts - start) / 1000 + 20 + expovariate(1 / 90))
                events.append(DemoEvent(ext, user.external_id, v.LOGIN, "", start, float(seconds)))
    return events


# --- 4. custom metrics ------------------------------------------------------------------------


def _account_metrics(rng: random.Random, plan: AccountPlan, first_day: int) -> Iterator[MetricFact]:
    integrated = "Integrations" in plan.modules
    calls_per_seat = rng.uniform(40, 160) if integrated else rng.uniform(2, 12)
    storage = plan.licenses * rng.uniform(0.3, 2.0)
    growth = rng.uniform(0.0005, 0.003)  # per day: at most about 1.7 times in six months
    for i, intensity in enumerate(plan.intensity[:-1]):  # a day's value is sent once it is over
        if plan.churn is not None and i >= plan.churn:
            break
        if i < plan.start:
            continue
        day = first_day + i
        weekend = date_of(day).weekday() >= 5
        calls = plan.licenses * calls_per_seat * intensity * (0.3 if weekend else 1.0)
        calls *= rng.uniform(0.8, 1.2)
        storage *= 1 + growth * min(intensity, 1.5)
        yield MetricFact(0, plan.external_id, "api_calls", float(round(calls)), day)
        yield MetricFact(0, plan.external_id, "storage_gb", round(storage, 1), day)
