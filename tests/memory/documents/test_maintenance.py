"""Upkeep: backups with rotation and a restore into a scratch database, health, orphans, indexes, cache."""

import os
import time
from datetime import timedelta

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from jobs.models import Worker
from jobs.queues import get_redis
from memory.documents import backups, maintenance, search
from memory.documents.models import Backup, Chunk, Document, DocumentStatus, HealthCheck

from . import samples
from .factories import make_workspace, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backup_settings(settings, tmp_path):
    settings.MEMORY_DOCUMENTS_BACKUP_DIR = tmp_path / "backups"
    return settings


def admin_connection():
    params = connection.settings_dict
    return psycopg.connect(dbname="postgres", host=params["HOST"], port=params.get("PORT") or None,
                           user=params.get("USER") or None, password=params.get("PASSWORD") or None, autocommit=True)


def test_a_backup_restores_into_a_scratch_database(backup_settings, work):
    workspace = make_workspace()
    document = upload(workspace, samples.MARKDOWN.encode(), "deploy.md")
    backup = backups.create_backup()
    assert backup.status == Backup.Status.SUCCEEDED, backup.error
    assert os.path.getsize(backup.database_path) > 0 and os.path.exists(backup.files_path)
    scratch = f"restore_{os.getpid()}_{int(time.time())}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        backups.restore_backup(backup, scratch)
        params = connection.settings_dict
        with psycopg.connect(dbname=scratch, host=params["HOST"], port=params.get("PORT") or None,
                             user=params.get("USER") or None, password=params.get("PASSWORD") or None) as restored:
            names = [row[0] for row in restored.execute("SELECT original_name FROM memory_document")]
            assert names == [document.original_name]
            assert restored.execute("SELECT count(*) FROM memory_workspace").fetchone()[0] == 1
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_the_restore_command_creates_a_scratch_database_from_the_newest_backup(backup_settings):
    from io import StringIO

    from django.core.management import call_command

    workspace = make_workspace("restored")
    backups.create_backup(include_files=False)
    scratch = f"restore_cmd_{os.getpid()}_{int(time.time())}"
    out = StringIO()
    try:
        call_command("restore_backup", scratch, "--create", stdout=out)
        assert f"into {scratch}" in out.getvalue()
        params = connection.settings_dict
        with psycopg.connect(dbname=scratch, host=params["HOST"], port=params.get("PORT") or None,
                             user=params.get("USER") or None, password=params.get("PASSWORD") or None) as restored:
            assert restored.execute("SELECT slug FROM memory_workspace").fetchall() == [(workspace.slug,)]
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_backups_rotate_by_count_and_age(backup_settings):
    backup_settings.MEMORY_DOCUMENTS_BACKUP_KEEP = 2
    made = [backups.create_backup(include_files=False) for _ in range(3)]
    statuses = {b.pk: b.status for b in Backup.objects.all()}
    assert statuses == {made[0].pk: "rotated", made[1].pk: "succeeded", made[2].pk: "succeeded"}
    assert not os.path.exists(made[0].database_path) and os.path.exists(made[2].database_path)
    Backup.objects.filter(pk=made[1].pk).update(created_at=timezone.now() - timedelta(days=40))
    assert backups.rotate(keep=5, max_age_days=30) == 1
    assert Backup.objects.get(pk=made[1].pk).status == "rotated"
    # The newest one stays even when it is old: an old backup beats none.
    Backup.objects.filter(pk=made[2].pk).update(created_at=timezone.now() - timedelta(days=400))
    assert backups.rotate(keep=5, max_age_days=30) == 0


def test_the_health_check_stores_a_row_per_probe(work):
    check = maintenance.run_health_check()
    assert set(check.results) == {"storage", "database", "redis", "workers"}
    assert check.results["database"]["ok"] and check.results["redis"]["ok"] and check.results["storage"]["ok"]
    assert not check.results["workers"]["ok"] and not check.ok  # no worker is running now
    Worker.objects.create(name="w1", host="h", pid=1, queues=["documents.normal"])
    assert maintenance.run_health_check().ok
    assert HealthCheck.objects.count() == 2


def test_orphaned_files_and_leftovers_of_failed_documents_are_cleaned(settings):
    workspace = make_workspace()
    kept = upload(workspace, b"a kept note about backups", "kept.txt")
    orphan = default_storage.save("documents/999/zz/orphan", ContentFile(b"nobody"))
    fresh = default_storage.save("documents/999/zz/fresh", ContentFile(b"mid-upload"))
    old = time.time() - 7200
    os.utime(default_storage.path(orphan), (old, old))
    failed = Document.objects.create(workspace=workspace, original_name="x", sha256="ef" * 32,
                                     status=DocumentStatus.FAILED)
    Chunk.objects.create(document=failed, ordinal=0, text="stale")
    result = maintenance.clean_orphans()
    assert result == {"files": 1, "chunks": 1, "pages": 0}
    assert not default_storage.exists(orphan) and default_storage.exists(fresh)
    assert default_storage.exists(kept.file.name)


def test_vector_indexes_are_rebuilt_only_past_the_bloat_threshold():
    result = maintenance.maintain_vector_indexes(ratio=1000)
    assert set(result) == {"chunk_embedding_hnsw", "memory_embedding_hnsw"}
    assert not any(r["reindexed"] for r in result.values())
    forced = maintenance.maintain_vector_indexes(force=True)
    assert all(r["reindexed"] for r in forced.values())


def test_stale_search_cache_entries_are_expired():
    workspace = make_workspace()
    redis = get_redis()
    stale = search.cache_key(redis, [workspace.pk], "backups")
    redis.set(stale, "[]", ex=300)
    search.invalidate_workspace(workspace.pk)
    current = search.cache_key(redis, [workspace.pk], "backups")
    redis.set(current, "[]", ex=300)
    assert stale != current
    assert maintenance.expire_search_cache() == {"deleted": 1}
    assert redis.get(stale) is None and redis.get(current) == b"[]"
