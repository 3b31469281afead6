"""Backups: pg_dump in custom format plus a tar of the stored files, rotated by count and age.

pg_dump must not be older than the server: the embedded PostgreSQL's own binaries (shipped in
the pgserver wheel) are used when they are there, else the first on PATH.
"""

import os
import shutil
import subprocess
import tarfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Backup


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed."""


def pg_binary(name):
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed")
    return found


def connection_args(database=None):
    """libpq environment and the database name for the default connection (or another database on it)."""
    params = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if params.get(key):
            env[var] = str(params[key])
    return env, database or params["NAME"]


def backup_dir():
    path = Path(settings.MEMORY_DOCUMENTS_BACKUP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_backup(include_files=True):
    """Dump the database (custom format) and tar the stored files; rotate; return the Backup row."""
    started = time.monotonic()
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    directory = backup_dir()
    dump = directory / f"engram-{stamp}.dump"
    files = directory / f"engram-{stamp}-files.tar.gz"
    env, name = connection_args()
    proc = subprocess.run([pg_binary("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump), name],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        dump.unlink(missing_ok=True)
        return Backup.objects.create(status=Backup.Status.FAILED, error=proc.stderr.strip()[:4000],
                                     took_s=round(time.monotonic() - started, 3))
    size = dump.stat().st_size
    files_path = ""
    media = Path(settings.MEDIA_ROOT)
    if include_files and media.exists():
        with tarfile.open(files, "w:gz") as tar:
            tar.add(media, arcname=".")
        size += files.stat().st_size
        files_path = str(files)
    backup = Backup.objects.create(status=Backup.Status.SUCCEEDED, database_path=str(dump), files_path=files_path,
                                   size=size, took_s=round(time.monotonic() - started, 3))
    rotate()
    return backup


def rotate(keep=None, max_age_days=None):
    """Delete backups beyond the newest `keep` and older than `max_age_days`; return how many went."""
    keep = keep or settings.MEMORY_DOCUMENTS_BACKUP_KEEP
    max_age_days = max_age_days or settings.MEMORY_DOCUMENTS_BACKUP_MAX_AGE_DAYS
    succeeded = list(Backup.objects.filter(status=Backup.Status.SUCCEEDED).order_by("-created_at"))
    cutoff = timezone.now() - timedelta(days=max_age_days)
    # The newest backup is never rotated out by age: an old backup beats none.
    doomed = succeeded[keep:] + [b for b in succeeded[1:keep] if b.created_at < cutoff]
    for backup in doomed:
        for path in (backup.database_path, backup.files_path):
            if path:
                Path(path).unlink(missing_ok=True)
        Backup.objects.filter(pk=backup.pk).update(status=Backup.Status.ROTATED)
    return len(doomed)


def restore_backup(backup, database, restore_files=False):
    """Restore a backup's dump into `database` (an existing, preferably empty, database on the same server)."""
    env, name = connection_args(database)
    proc = subprocess.run([pg_binary("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", name,
                           backup.database_path], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip()[:2000]}")
    if restore_files and backup.files_path:
        with tarfile.open(backup.files_path) as tar:
            tar.extractall(Path(settings.MEDIA_ROOT), filter="data")
    return name


def create_database(name):
    """An empty database on the default connection's server (for a restore)."""
    from django.db import connection as default

    with default.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')


def restore(database, backup_id=None, create=False, restore_files=False):
    """Restore one backup (the newest succeeded one by default) into `database`; return the Backup."""
    backups = Backup.objects.filter(status=Backup.Status.SUCCEEDED)
    backup = (backups.filter(pk=backup_id) if backup_id else backups.order_by("-created_at")).first()
    if backup is None:
        raise BackupError("no such succeeded backup")
    if create:
        create_database(database)
    restore_backup(backup, database, restore_files=restore_files)
    return backup
