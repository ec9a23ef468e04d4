"""The one write path for work: tasks and their comments (``tasks``), touchpoints
(``touchpoints``). Callers import from here."""

from tend.work.actions.attachments import *  # noqa: F403
from tend.work.actions.projects import *  # noqa: F403
from tend.work.actions.tasks import *  # noqa: F403
from tend.work.actions.touchpoints import *  # noqa: F403
