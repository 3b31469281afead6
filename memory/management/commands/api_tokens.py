"""manage.py api_tokens issue|list|revoke: API tokens scoped to one workspace and role, with expiry."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from memory.models import ApiToken, Membership, Workspace


def _bad_value(message):
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Issue, list and revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("issue", help="issue a token and print its secret (shown only once)")
        p.add_argument("username")
        p.add_argument("name", help="what the token is for")
        p.add_argument("--workspace", required=True, help="the slug of the one workspace it may act in")
        p.add_argument("--role", default=Membership.Role.VIEWER, choices=Membership.Role.values,
                       help="viewer (read), member (read and write) or owner; never above the user's own role")
        p.add_argument("--days", default=None, help="lifetime in days (0 never expires; default MEMORY_API_TOKEN_DAYS)")
        p = sub.add_parser("list", help="tokens with their scope, expiry, last use and revocation")
        p.add_argument("--user", dest="username")
        sub.add_parser("revoke", help="revoke a token by id").add_argument("id")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_issue(self, username, name, workspace, role, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise _bad_value(f"no user {username!r}")
        scope = Workspace.objects.filter(slug=workspace).first()
        if scope is None:
            raise _bad_value(f"no workspace {workspace!r}")
        if not user.is_superuser and not Membership.objects.filter(user=user, workspace=scope).exists():
            raise _bad_value(f"{username} is not a member of {workspace}")
        if days is not None and not (days.isdecimal() and len(days) <= 4):
            raise _bad_value(f"--days must be a whole number from 0 to 3650, got {days[:20]!r}")
        try:
            secret = ApiToken.issue(user, name, workspace=scope, role=role, days=None if days is None else int(days))
        except ValueError as exc:
            raise _bad_value(str(exc)) from None
        self.stdout.write(secret)

    def do_list(self, username, **options):
        tokens = ApiToken.objects.select_related("user", "workspace").order_by("-created_at")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            self.stdout.write("  ".join(str(value) for value in (
                token.pk, token.user.username, token.name, f"{token.prefix}…",
                token.workspace.slug if token.workspace else "(all)", token.role,
                f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires",
                f"used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used",
                "REVOKED" if token.revoked_at else "active",
            )))

    def do_revoke(self, id, **options):
        token = ApiToken.objects.filter(pk=int(id)).first() if id.isdecimal() and len(id) < 19 else None
        if token is None:
            raise _bad_value(f"no token with id {id!r}")
        token.revoke()
        self.stdout.write(f"revoked {token.pk} ({token.name})")
