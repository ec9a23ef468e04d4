"""The ``tend`` command: a thin front for Django management commands.

``tend serve``, ``tend worker``, ``tend scheduler``, ``tend demo``,
``tend workspace create …``, ``tend token create …`` map to management commands in the
app that owns them; ``tend manage …`` passes anything through to Django.
"""

import os
import sys

# Two-word commands: ("workspace", "create") → the ``workspace_create`` management command.
GROUPED = {"workspace", "token"}
SIMPLE = {"serve", "web", "worker", "scheduler", "demo"}

USAGE = """usage: tend COMMAND [ARGS]

  serve                      web server, job worker and scheduler together
  web | worker | scheduler   one of those alone (production: run each separately)
  demo                       build (or rebuild) the Demo workspace
  workspace create NAME --owner EMAIL --password PASSWORD
  token create --workspace SLUG --scopes read,write[,admin,ingest] [--name NAME]
  manage ARGS...             any Django management command (e.g. tend manage migrate)
"""


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        sys.exit(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    if command == "manage":
        django_args = rest
    elif command in SIMPLE:
        django_args = [command, *rest]
    elif command in GROUPED and rest and not rest[0].startswith("-"):
        django_args = [f"{command}_{rest[0]}", *rest[1:]]
    else:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tend", *django_args])


if __name__ == "__main__":
    main()
