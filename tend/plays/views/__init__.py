"""The plays pages: the list and a play with its log (``pages``), the editor with status
changes and the template preview (``editor``), and the dry run (``dry_run``)."""

from tend.plays.views.dry_run import play_dry_run
from tend.plays.views.editor import play_edit, play_new, play_run_now, play_status, step_preview
from tend.plays.views.pages import play_detail, play_list

__all__ = [
    "play_detail",
    "play_dry_run",
    "play_edit",
    "play_list",
    "play_new",
    "play_run_now",
    "play_status",
    "step_preview",
]
