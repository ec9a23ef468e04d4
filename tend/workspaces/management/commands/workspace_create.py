"""``tend workspace create NAME --owner EMAIL --password PASSWORD [--slug SLUG]``."""

from django.core.management.base import BaseCommand, CommandError

from tend.lib.errors import InvalidInput
from tend.workspaces.actions import create_workspace


class Command(BaseCommand):
    help = "Create a workspace with its first admin. Prints the workspace's slug alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The workspace's display name")
        parser.add_argument(
            "--owner", required=True, metavar="EMAIL", help="Email of the first admin"
        )
        parser.add_argument(
            "--password",
            required=True,
            help="The admin's password (ignored when the email already has a login)",
        )
        parser.add_argument("--owner-name", default="", help="The admin's full name")
        parser.add_argument(
            "--slug", default=None, help="URL-safe id (default: made from the name)"
        )

    def handle(self, *args, name, owner, password, owner_name, slug, **options):
        try:
            workspace, member = create_workspace(
                name, owner_email=owner, owner_password=password, owner_name=owner_name, slug=slug
            )
        except InvalidInput as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        self.stdout.write(f"Created workspace “{workspace.name}” with admin {member.user.email}.")
        self.stdout.write(workspace.slug)
