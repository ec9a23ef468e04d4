"""``tend token create --workspace SLUG --scopes read,write[,admin,ingest] [--name NAME]``."""

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from tend.lib.errors import InvalidInput
from tend.workspaces.access import system_actor
from tend.workspaces.actions import create_api_token
from tend.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create an API token. Prints the token alone on the last line; it is not shown again."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated: read, write, admin, ingest"
        )
        parser.add_argument("--name", default="CLI token")

    def handle(self, *args, workspace, scopes, name, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(
                f"No workspace with slug {workspace!r}: see 'tend workspace create'."
            )
        try:
            with scope(workspace=found.pk):
                token, raw = create_api_token(system_actor(found), name=name, scopes=scopes)
        except InvalidInput as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        self.stdout.write(
            f"Created token “{token.name}” ({', '.join(token.scopes)}) for {found.name}. "
            "Store it now: it is shown only once."
        )
        self.stdout.write(raw)
