"""Temporary entry point for `memory import_documents` (the lead wires memory/documents/cli.py into `memory`)."""

from django.core.management.base import BaseCommand

from memory.documents import cli


class Command(BaseCommand):
    help = "Import documents from files and folders (recursively); --wait processes them here until done."

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        cli.handle(**{**options, "stdout": self.stdout})
