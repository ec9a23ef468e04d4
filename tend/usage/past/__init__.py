"""Usage as it was on past local days, recomputed from the daily rollups (DESIGN rule 7:
raw events are not read here).

* :mod:`~tend.usage.past.windows` — what each windowed metric sums or counts;
* :mod:`~tend.usage.past.arrays` — :class:`PastUsage`, every metric for many days and
  every account at once (NumPy): health's back-test and replay of history;
* :mod:`~tend.usage.past.relations` — one metric as of one day as SQL over a whole
  workspace: the change filters of the condition language.
"""

from tend.usage.past.arrays import PAST_METRICS, PastUsage
from tend.usage.past.windows import WINDOW_METRICS, Window

__all__ = ["PAST_METRICS", "WINDOW_METRICS", "PastUsage", "Window"]
