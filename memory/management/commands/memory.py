"""`manage.py memory SUBCOMMAND`: domain commands, one small function per subcommand."""

from django.core.management.base import BaseCommand

from memory.chats.commands import add_import_telegram, add_telegram_webhook


class Command(BaseCommand):
    help = "Memory domain commands: import_telegram, telegram_webhook."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", required=True)
        add_import_telegram(subparsers)
        add_telegram_webhook(subparsers)

    def handle(self, *args, **options):
        options["handler"](self, options)
