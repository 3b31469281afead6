"""Restore a documents backup (pg_dump custom format, and optionally the stored files) into a database."""

from django.core.management.base import BaseCommand, CommandError

from memory.documents.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore the newest (or --backup ID) backup into DATABASE on the same server; --create makes it first."

    def add_arguments(self, parser):
        parser.add_argument("database")
        parser.add_argument("--backup", type=int, help="Backup row id (default: the newest succeeded one)")
        parser.add_argument("--create", action="store_true", help="create the (empty) database first")
        parser.add_argument("--files", action="store_true", help="also unpack the stored files into MEDIA_ROOT")

    def handle(self, database, backup=None, create=False, files=False, **options):
        try:
            restored = restore(database, backup_id=backup, create=create, restore_files=files)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored backup {restored.pk} of {restored.created_at:%Y-%m-%d %H:%M} into {database}")
