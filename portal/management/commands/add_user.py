from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.roles import Role
from portal.services import user_token, user_upsert


class Command(BaseCommand):
    help = "Create a user with a role, or update the role and password of an existing one."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="Without it a new user can only use the API token.")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--print-token", action="store_true", help="Print the API token on the last line."
        )

    def handle(self, *args, name, role, password, email, print_token, **opts):
        try:
            user, created = user_upsert(username=name, role=role, password=password, email=email)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{'Created' if created else 'Updated'} user {user.username!r} with role {role}.")
        if print_token:
            self.stdout.write(user_token(user=user))
