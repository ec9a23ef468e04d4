"""Time frames in local days, and the constants every reading shares."""

import datetime
from dataclasses import dataclass

from tend.lib.dates import today, zone
from tend.workspaces.models import Workspace

HISTORY_DAYS = 90
MODULE_DAYS = 30
MAX_MODULES = 50
DEFAULT_LICENCE_ATTRIBUTE = "licenses"


@dataclass(frozen=True)
class WindowSpec:
    """A time frame: the local days from ``newest`` back to ``oldest`` days before today."""

    key: str
    label: str
    newest: int
    oldest: int


WINDOWS = (
    WindowSpec("today", "Today", 0, 0),
    WindowSpec("yesterday", "Yesterday", 1, 1),
    WindowSpec("3d", "Last 3 days", 0, 2),
    WindowSpec("7d", "Last 7 days", 0, 6),
    WindowSpec("14d", "Last 14 days", 0, 13),
    WindowSpec("30d", "Last 30 days", 0, 29),
    WindowSpec("90d", "Last 90 days", 0, 89),
)


def local_today(workspace: Workspace, now: datetime.datetime | None = None) -> int:
    return today(zone(workspace.time_zone), now)
