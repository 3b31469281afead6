"""`manage.py memory SUBCOMMAND`: domain commands, one small function per subcommand."""

from django.core.management.base import BaseCommand

from memory.chats.commands import add_import_telegram, add_telegram_webhook
from memory.documents import cli as documents_cli
from memory.posts.consumer import add_posts_consumer


def add_import_documents(subparsers):
    parser = subparsers.add_parser(
        "import_documents", help="Import documents from files and folders (recursively); --wait processes them here.")
    documents_cli.add_arguments(parser)
    parser.set_defaults(handler=lambda command, options: documents_cli.handle(**{**options, "stdout": command.stdout}))


class Command(BaseCommand):
    help = "Memory domain commands: import_telegram, telegram_webhook, import_documents, posts_consumer."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", required=True)
        add_import_telegram(subparsers)
        add_telegram_webhook(subparsers)
        add_import_documents(subparsers)
        add_posts_consumer(subparsers)

    def handle(self, *args, **options):
        options["handler"](self, options)
