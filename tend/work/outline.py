"""The template editor's plain-text outline, both ways: one line per milestone and task,
so an admin edits a whole plan in one box.

::

    # Kickoff
    +0 @success_manager [meeting] Kickoff call
        Agenda, goals, who is who. (indented lines: the task's description)
    +7 Send the welcome pack

``+N`` is the task's due day after the start, ``@role`` the assignment role key (none: the
fallback member), ``[type]`` the task type (none: other).
"""

import re

from tend.lib.errors import InvalidInput

TASK = re.compile(r"^\+?(?P<offset>-?\d+)\s+(?:@(?P<role>\S+)\s+)?(?:\[(?P<type>[\w-]+)\]\s+)?(?P<title>.+)$")
PATH = re.compile(r"^milestones\[(\d+)\](?:\.tasks\[(\d+)\])?")


def parse(text: str) -> tuple[list[dict], dict]:
    """``(milestones, lines)``: the structure ``clean_milestones`` takes, and the line of each
    milestone ``(i,)`` and task ``(i, j)`` for error messages. Raises ``InvalidInput("outline",
    "line N: …")`` for a line it cannot read."""
    milestones: list[dict] = []
    lines: dict[tuple, int] = {}
    task = None
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        if raw[:1] in (" ", "\t") and task is not None:
            task["description"] = (task["description"] + "\n" + raw.strip()).strip()
            continue
        line = raw.strip()
        if line.startswith("#"):
            milestones.append({"name": line.lstrip("#").strip(), "tasks": []})
            lines[(len(milestones) - 1,)] = number
            task = None
            continue
        match = TASK.match(line)
        if match is None:
            raise InvalidInput(
                "outline",
                f"line {number}: start a milestone with # or a task with +days, e.g. “+7 @success_manager Send the welcome pack”",
            )
        if not milestones:
            raise InvalidInput("outline", f"line {number}: a task needs a “# Milestone” line above it")
        task = {
            "title": match["title"].strip(),
            "offset_days": int(match["offset"]),
            "role": match["role"] or "",
            "type": match["type"] or "other",
            "description": "",
        }
        milestones[-1]["tasks"].append(task)
        lines[(len(milestones) - 1, len(milestones[-1]["tasks"]) - 1)] = number
    return milestones, lines


def located(exc: InvalidInput, lines: dict) -> InvalidInput:
    """``exc`` from ``clean_milestones`` (``milestones[1].tasks[0].role``) as an error on the
    outline's line."""
    match = PATH.match(exc.field or "")
    if match is None:
        return InvalidInput("outline", exc.message) if exc.field == "milestones" else exc
    key = (int(match[1]),) if match[2] is None else (int(match[1]), int(match[2]))
    what = exc.field[match.end():].lstrip(".") or ("milestone" if match[2] is None else "task")
    where = f"line {lines[key]}: " if key in lines else ""
    return InvalidInput("outline", f"{where}{what.replace('_', ' ')}: {exc.message}")


def render(milestones: list[dict]) -> str:
    out = []
    for milestone in milestones:
        if out:
            out.append("")
        out.append(f"# {milestone['name']}")
        for task in milestone["tasks"]:
            parts = [f"+{task['offset_days']}"]
            if task.get("role"):
                parts.append(f"@{task['role']}")
            if task.get("type") and task["type"] != "other":
                parts.append(f"[{task['type']}]")
            parts.append(task["title"])
            out.append(" ".join(parts))
            out.extend(f"    {line}" for line in task.get("description", "").splitlines() if line.strip())
    return "\n".join(out)
