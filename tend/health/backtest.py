"""Back-test: would a profile have seen churn coming?

For every account whose status became *churned* in the look-back period (from the status
history), the profile — its current version, an older one, or a draft — scores the account as
it was ``days_before`` days (30, 60 or 90) before it churned, and compares it with accounts
that did not churn, scored on the same dates. The scorer is the one the nightly run uses
(DESIGN rule 6); its inputs are the sources' values as of those days
(:func:`tend.health.sources.read_days`: usage recomputed from the rollups).

Steps of :func:`backtest`:

1. **Churned accounts**: the latest change to churned of each account within the look-back
   period, and the day ``days_before`` earlier ("as of"). One is compared when, on that day,
   it was paying and the workspace had at least :data:`HISTORY_NEEDED` days of usage behind
   the day (a profile over usage reads windows of up to 30 days; before that, every account
   would look idle). The others are listed with the reason they were left out.
2. **Accounts that did not churn**: those paying now with no churn in the period, each given
   one of the churned accounts' as-of days in turn (so both groups are scored on the same
   spread of dates), kept when they were paying on it.
3. **Score** both groups, one vectorised call per as-of day. For a saved version, the stored
   snapshot of that day (the latest on or before it) replaces the recomputed score when that
   version produced it: what the profile actually said then.
4. **Figures** (pure functions below): the share of churned accounts ranked Poor and
   Average; the false-alarm rate (accounts that did not churn, ranked Poor); ROC AUC of the
   score (churned = positive, a lower score = riskier); the same AUC for each metric alone,
   naming the one that separated churned accounts best; the ROC curve and score
   distributions of both groups for the report's charts.

The profile is applied to every compared account, whatever profile scores it today (its
condition is about accounts as they are now: a churned account would never match "paying
accounts"), and each account is scored on its own metrics (parents are not rolled up from
their children). Attributes have no history: they are read as they are now (a date counted
from each day), which can flatter them — an account that renewed since shows its next
renewal date, never a near one — so a metric read that way is marked, and never named the
one that separated churned accounts best.
"""

import datetime
from dataclasses import dataclass, field

import numpy as np

from tend.accounts.history import StatusHistory
from tend.accounts.models import Account, AccountStatus
from tend.health import scoring, sources
from tend.health.actions.profiles import check_definition
from tend.health.models import HealthProfile, HealthSnapshot, ProfileVersion
from tend.health.scoring import RANK_CODES, RANKS, UNSCORED, Definition, MetricRule
from tend.lib.dates import date_of
from tend.lib.errors import InvalidInput
from tend.usage.models import AccountDay
from tend.workspaces.models import Workspace

DAYS_BEFORE = (30, 60, 90)
DEFAULT_LOOKBACK = 365
LOOKBACK_RANGE = (30, 1095)
HISTORY_NEEDED = 30
# A metric must have values for this many accounts of each group to be named the best.
MIN_PER_GROUP = 3
SCORE_BINS = 10
# Reasons a churned account is left out of the comparison.
BEFORE_HISTORY = "before_history"
NOT_PAYING = "not_paying"
UNSCORED_THEN = "unscored"
REASONS = {
    BEFORE_HISTORY: "before the usage history",
    NOT_PAYING: "not paying then",
    UNSCORED_THEN: "no score (no metric had a value)",
}


# --- pure figures --------------------------------------------------------------------------


def roc_auc(positive, negative) -> float | None:
    """The probability that a positive (churned) account is riskier than a negative one, ties
    counting half (the Mann–Whitney statistic). Arrays of *risk*, higher = riskier; NaN is
    left out. None when a group is empty."""
    pos = np.asarray(positive, dtype=float)
    neg = np.asarray(negative, dtype=float)
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    if not len(pos) or not len(neg):
        return None
    both = np.concatenate([pos, neg])
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2  # 1-based, ties share their mean
    pairs_above = average_rank[inverse][: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(pairs_above / (len(pos) * len(neg)))


def roc_curve(positive, negative) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) at every cut of the risk, from (0, 0) to
    (1, 1): flagging the accounts at or above each distinct risk value."""
    pos = np.asarray(positive, dtype=float)
    neg = np.asarray(negative, dtype=float)
    pos, neg = np.sort(pos[~np.isnan(pos)]), np.sort(neg[~np.isnan(neg)])
    if not len(pos) or not len(neg):
        return []
    cuts = np.unique(np.concatenate([pos, neg]))[::-1]
    tpr = (len(pos) - np.searchsorted(pos, cuts, side="left")) / len(pos)
    fpr = (len(neg) - np.searchsorted(neg, cuts, side="left")) / len(neg)
    return [(0.0, 0.0), *zip(fpr.round(4).tolist(), tpr.round(4).tolist(), strict=True)]


def score_risk(scores) -> np.ndarray:
    """Risk of a 0–100 score: a lower score is riskier."""
    return -np.asarray(scores, dtype=float)


def metric_risk(rule: MetricRule, values) -> np.ndarray:
    """Risk of a metric's values as the profile reads them: a value on the bad side of its
    direction is riskier; categories by their grade (Poor riskiest). NaN where missing."""
    if rule.grading == "categories":
        table = dict(rule.categories)
        grades = [table.get(v, np.nan) if v is not None else np.nan for v in values]
        return -np.array(grades, dtype=float)
    numbers = np.asarray(values, dtype=float)
    return -numbers if rule.direction == "higher" else numbers


def rank_shares(ranks) -> dict[str, float | None]:
    """Share of each rank among the ranked (scored) accounts."""
    ranks = np.asarray(ranks)
    scored = ranks != UNSCORED
    total = int(scored.sum())
    return {
        name: (round(float((ranks == code).sum()) / total, 4) if total else None)
        for code, name in RANKS.items()
    }


def score_bins(scores, bins: int = SCORE_BINS) -> list[int]:
    """How many scores fall in each of ``bins`` equal bins of 0–100 (100 in the last)."""
    scores = np.asarray(scores, dtype=float)
    scores = scores[~np.isnan(scores)]
    index = np.clip((scores // (100 / bins)).astype(int), 0, bins - 1)
    return np.bincount(index, minlength=bins).tolist()


@dataclass
class MetricFigure:
    id: str
    label: str
    source: str
    auc: float | None
    churned: int  # accounts with a value, per group
    others: int
    churned_median: float | None
    others_median: float | None
    # Read as it is now on every past day (attributes have no history): its separation may be
    # flattered — an account that renewed since shows its next renewal date.
    read_as_now: bool = False


def _median(values) -> float | None:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return round(float(np.median(values)), 2) if len(values) else None


def metric_figures(
    definition: Definition, churned: dict[str, np.ndarray], others: dict[str, np.ndarray]
) -> list[MetricFigure]:
    """Each metric's AUC alone (risk by its own direction) and the groups' medians, from the
    values the scorer read (metric id → values)."""
    found = []
    for rule in definition.metrics:
        pos, neg = metric_risk(rule, churned[rule.id]), metric_risk(rule, others[rule.id])
        numeric = rule.grading != "categories"
        found.append(
            MetricFigure(
                id=rule.id,
                label=rule.label,
                source=rule.source,
                auc=_rounded(roc_auc(pos, neg)),
                churned=int((~np.isnan(pos)).sum()),
                others=int((~np.isnan(neg)).sum()),
                churned_median=_median(churned[rule.id]) if numeric else None,
                others_median=_median(others[rule.id]) if numeric else None,
                read_as_now=_read_as_now(rule),
            )
        )
    return found


def _read_as_now(rule: MetricRule) -> bool:
    source = sources.source_for(rule.source)
    return source is not None and not source.has_history


def best_metric(figures: list[MetricFigure]) -> MetricFigure | None:
    """The metric whose AUC is highest, among those with enough values in both groups and a
    history (a metric read as it is now could look prescient only because it is now)."""
    usable = [
        f
        for f in figures
        if f.auc is not None
        and not f.read_as_now
        and f.churned >= MIN_PER_GROUP
        and f.others >= MIN_PER_GROUP
    ]
    return max(usable, key=lambda f: f.auc, default=None)


def _rounded(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class ChurnedAccount:
    account_id: int
    name: str
    external_id: str
    churned_on: datetime.date
    as_of: datetime.date
    score: float | None = None
    rank: str | None = None
    from_snapshot: bool = False
    left_out: str | None = None  # a key of REASONS, or None when compared


@dataclass
class Report:
    profile: HealthProfile
    version: ProfileVersion | None  # None for a draft
    days_before: int
    lookback_days: int
    today: int
    history_starts: datetime.date | None  # the first day an account can be scored as of
    churned: list[ChurnedAccount] = field(default_factory=list)
    compared_churned: int = 0
    compared_others: int = 0
    others_left_out: int = 0
    from_snapshots: int = 0
    churned_ranks: dict = field(default_factory=dict)  # share of each rank
    false_alarm_rate: float | None = None
    auc: float | None = None
    metrics: list[MetricFigure] = field(default_factory=list)
    best: MetricFigure | None = None
    roc: list = field(default_factory=list)
    bins: dict = field(default_factory=dict)  # group → counts per score bin

    @property
    def has_churn(self) -> bool:
        return bool(self.churned)

    @property
    def left_out(self) -> dict[str, int]:
        counts = dict.fromkeys(REASONS, 0)
        for account in self.churned:
            if account.left_out:
                counts[account.left_out] += 1
        return counts


def tested_definition(
    profile: HealthProfile, *, version: int | None = None, definition=None
) -> tuple[Definition, ProfileVersion | None]:
    """What the back-test scores with: a draft ``definition`` (checked as saving checks it),
    the version numbered ``version``, or the current version."""
    if definition is not None and version is not None:
        raise InvalidInput("definition", "give a draft definition or a version, not both")
    if definition is not None:
        check_definition(profile.workspace, definition)
        return scoring.parse_definition(definition), None
    if version is not None:
        found = ProfileVersion.objects.filter(profile=profile, number=version).first()
        if found is None:
            raise InvalidInput("version", f"this profile has no version {version}")
    else:
        found = profile.current_version
        if found is None:
            raise InvalidInput("version", "this profile has no saved version")
    return scoring.parse_definition(found.definition), found


def history_start(workspace: Workspace, definition: Definition) -> int | None:
    """The first local day an account can be scored as of: :data:`HISTORY_NEEDED` days into
    the usage history. None when the profile reads no usage (or there is none at all: then
    nothing can be scored as of a past day, which :func:`backtest` reports)."""
    if not any(rule.source.startswith("usage.") for rule in definition.metrics):
        return None
    first = (
        AccountDay.objects.filter(workspace=workspace)
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    return None if first is None else first + HISTORY_NEEDED - 1


def backtest(
    profile: HealthProfile,
    *,
    days_before: int = 30,
    lookback_days: int = DEFAULT_LOOKBACK,
    version: int | None = None,
    definition=None,
    today: int | None = None,
) -> Report:
    """Score churned accounts ``days_before`` days before they churned; see the module
    docstring for the steps."""
    if days_before not in DAYS_BEFORE:
        raise InvalidInput("days_before", "must be 30, 60 or 90")
    if not LOOKBACK_RANGE[0] <= lookback_days <= LOOKBACK_RANGE[1]:
        raise InvalidInput(
            "lookback_days", f"must be between {LOOKBACK_RANGE[0]} and {LOOKBACK_RANGE[1]}"
        )
    workspace = profile.workspace
    parsed, tested = tested_definition(profile, version=version, definition=definition)
    today = today if today is not None else sources.local_today(workspace)
    starts = history_start(workspace, parsed)
    uses_usage = any(rule.source.startswith("usage.") for rule in parsed.metrics)
    report = Report(
        profile=profile,
        version=tested,
        days_before=days_before,
        lookback_days=lookback_days,
        today=today,
        history_starts=date_of(starts) if starts is not None else None,
    )
    statuses = StatusHistory(workspace)

    # 1. Churned accounts and the day each is scored as of.
    churns = statuses.churns(today - lookback_days + 1, today)
    if not churns:
        return report
    churn_ids = np.array([c[0] for c in churns], dtype=np.int64)
    churn_days = np.array([c[1] for c in churns], dtype=np.int64)
    as_of = churn_days - days_before
    then = statuses.on(churn_ids, as_of)
    reason = np.full(len(churns), None, dtype=object)
    if uses_usage:
        horizon = starts if starts is not None else today + 1
        reason[as_of < horizon] = BEFORE_HISTORY
    reason[then != AccountStatus.PAYING] = NOT_PAYING  # what the account was, whatever the data
    compared = reason == None  # noqa: E711 (element-wise)

    # 2. Accounts that did not churn, on the same spread of days.
    paying_now = statuses.ids[statuses.current == AccountStatus.PAYING]
    others = np.setdiff1d(paying_now, churn_ids)
    days_used = np.sort(as_of[compared])
    if len(days_used):
        other_days = days_used[np.arange(len(others)) % len(days_used)]
        keep = statuses.on(others, other_days) == AccountStatus.PAYING
        report.others_left_out = int((~keep).sum())
        others, other_days = others[keep], other_days[keep]
    else:
        others, other_days = others[:0], np.zeros(0, dtype=np.int64)

    # 3. Scores as of those days.
    ids = np.concatenate([churn_ids[compared], others])
    days = np.concatenate([as_of[compared], other_days])
    scored = _score(workspace, parsed, ids, days)
    if tested is not None:
        report.from_snapshots = _use_snapshots(workspace, tested, ids, days, scored)

    # 4. Figures.
    n = int(compared.sum())
    is_churned = np.arange(len(ids)) < n
    rank = scored["rank"]
    unscored = rank == UNSCORED
    churned_mask = is_churned & ~unscored
    others_mask = ~is_churned & ~unscored
    report.compared_churned = int(churned_mask.sum())
    report.compared_others = int(others_mask.sum())
    report.others_left_out += int((~is_churned & unscored).sum())
    report.churned_ranks = rank_shares(rank[churned_mask])
    if report.compared_others:
        report.false_alarm_rate = round(
            float((rank[others_mask] == scoring.POOR).sum()) / report.compared_others, 4
        )
    score = scored["score"]
    pos, neg = score_risk(score[churned_mask]), score_risk(score[others_mask])
    report.auc = _rounded(roc_auc(pos, neg))
    report.roc = roc_curve(pos, neg)
    report.bins = {
        "churned": score_bins(score[churned_mask]),
        "others": score_bins(score[others_mask]),
    }
    values = scored["values"]
    report.metrics = metric_figures(
        parsed,
        {key: column[churned_mask] for key, column in values.items()},
        {key: column[others_mask] for key, column in values.items()},
    )
    report.best = best_metric(report.metrics)
    report.churned = _churned_accounts(workspace, churns, as_of, reason, compared, scored)
    return report


def _score(workspace: Workspace, definition: Definition, ids: np.ndarray, days: np.ndarray):
    """Score each account as of its own day: one scorer call per distinct day."""
    n = len(ids)
    found = {
        "score": np.full(n, np.nan),
        "rank": np.full(n, UNSCORED, dtype=np.int8),
        "from_snapshot": np.zeros(n, dtype=bool),
        "values": {rule.id: _empty_values(rule, n) for rule in definition.metrics},
    }
    if not n:
        return found
    order = np.argsort(ids)
    sorted_ids = ids[order]
    rules = list(definition.inputs().values())
    for day, inputs in sources.read_days(workspace, sorted_ids, rules, np.unique(days).tolist()):
        members = order[days[order] == day]  # positions in ``ids`` scored as of ``day``
        rows = np.nonzero(days[order] == day)[0]  # their rows in ``sorted_ids``
        result = scoring.score(definition, {key: inputs[key][rows] for key in inputs})
        found["score"][members] = result.score
        found["rank"][members] = result.rank
        for rule in definition.metrics:
            found["values"][rule.id][members] = result.values[rule.id]
    return found


def _empty_values(rule: MetricRule, n: int) -> np.ndarray:
    if rule.grading == "categories":
        return np.full(n, None, dtype=object)
    return np.full(n, np.nan)


def _use_snapshots(
    workspace: Workspace, version: ProfileVersion, ids: np.ndarray, days: np.ndarray, scored
) -> int:
    """Where the stored state of an account on its day was produced by ``version``, take its
    score and rank; return how many were taken."""
    if not len(ids):
        return 0
    rows = HealthSnapshot.objects.filter(workspace=workspace, day__lte=int(days.max()))
    if len(ids) <= sources.FEW:
        rows = rows.filter(account_id__in=ids.tolist())
    snapshots = list(
        rows.order_by("account_id", "day").values_list(
            "account_id", "day", "score", "rank", "version_id"
        )
    )
    if not snapshots:
        return 0
    big = np.int64(1) << 32
    accounts = np.array([s[0] for s in snapshots], dtype=np.int64)
    keys = accounts * big + np.array([s[1] for s in snapshots], dtype=np.int64)
    latest = np.searchsorted(keys, ids * big + days, side="right") - 1
    valid = latest >= 0
    latest = np.maximum(latest, 0)
    valid &= accounts[latest] == ids
    versions = np.array([s[4] or 0 for s in snapshots], dtype=np.int64)
    valid &= versions[latest] == version.pk
    for i in np.nonzero(valid)[0].tolist():
        _account, _day, score, rank, _version = snapshots[latest[i]]
        scored["score"][i] = np.nan if score is None else score
        scored["rank"][i] = RANK_CODES.get(rank, UNSCORED)
        scored["from_snapshot"][i] = True
    return int(valid.sum())


def _churned_accounts(
    workspace: Workspace, churns, as_of, reason, compared, scored
) -> list[ChurnedAccount]:
    """Every churned account of the period, the latest churn first, with its as-of rank and
    score or the reason it was left out."""
    names = {
        pk: (name, external_id)
        for pk, name, external_id in Account.objects.filter(
            workspace=workspace, pk__in=[c[0] for c in churns]
        ).values_list("id", "name", "external_id")
    }
    positions = np.cumsum(compared) - 1  # row in ``scored`` of each compared churn
    found = []
    for i, (account_id, day, _at) in enumerate(churns):
        name, external_id = names.get(account_id, ("", ""))
        item = ChurnedAccount(
            account_id=account_id,
            name=name,
            external_id=external_id,
            churned_on=date_of(day),
            as_of=date_of(int(as_of[i])),
            left_out=reason[i],
        )
        if compared[i]:
            row = int(positions[i])
            score = scored["score"][row]
            item.score = None if np.isnan(score) else round(float(score), 1)
            item.rank = RANKS.get(int(scored["rank"][row]))
            item.from_snapshot = bool(scored["from_snapshot"][row])
            if item.rank is None:
                item.left_out = UNSCORED_THEN
        found.append(item)
    found.sort(key=lambda a: (a.churned_on, a.account_id), reverse=True)
    return found
