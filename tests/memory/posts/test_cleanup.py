"""cleanup_expired_posts killed mid-way resumes at its checkpoint: nothing missed, nothing deleted twice."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from memory.posts import cleanup
from memory.posts.models import Post, PostCleanupCheckpoint, PostEnrichment, text_hash
from tests.memory.factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_CLEANUP = (
    "import time\n"
    "from memory.posts import cleanup\n"
    "print(cleanup.cleanup_expired_posts(batch_size=10, on_batch=lambda done: time.sleep(0.3)))\n"
)


def make_posts(workspace, count, expires_at, prefix):
    posts = Post.objects.bulk_create([
        Post(workspace=workspace, source="api", external_id=f"{prefix}{n}", text=f"post {n}", text_hash=text_hash(f"post {n}"),
             expires_at=expires_at) for n in range(count)])
    PostEnrichment.objects.bulk_create([PostEnrichment(post=post, kind="tags", data={"tags": []}) for post in posts])
    return posts


def test_a_run_killed_mid_way_resumes_and_deletes_every_expired_post_once(subprocess_env):
    workspace = make_workspace()
    past = timezone.now() - dt.timedelta(days=1)
    make_posts(workspace, 120, past, "old")
    kept = make_posts(workspace, 30, timezone.now() + dt.timedelta(days=1), "new")
    proc = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", SLOW_CLEANUP], env=subprocess_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            checkpoint = PostCleanupCheckpoint.objects.filter(name=cleanup.CHECKPOINT).first()
            if checkpoint is not None and checkpoint.deleted >= 30:
                break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    checkpoint = PostCleanupCheckpoint.objects.get(name=cleanup.CHECKPOINT)
    assert 30 <= checkpoint.deleted < 120, "the run was not killed mid-way"
    assert Post.objects.filter(expires_at__lte=past).count() == 120 - checkpoint.deleted  # batches are whole
    cutoff = checkpoint.cutoff
    # The resumed run counts the killed run's deletions too: 120 means none was counted twice or missed.
    assert cleanup.cleanup_expired_posts(batch_size=10) == 120
    assert set(Post.objects.values_list("pk", flat=True)) == {post.pk for post in kept}
    assert PostEnrichment.objects.count() == 30
    finished = PostCleanupCheckpoint.objects.get(name=cleanup.CHECKPOINT)
    assert finished.cutoff is None and finished.deleted == 0  # the next run starts afresh
    assert cutoff <= timezone.now()


def test_a_post_expiring_after_the_run_started_waits_for_the_next_run():
    workspace = make_workspace()
    checkpoint = cleanup.start_or_resume(now=timezone.now() - dt.timedelta(hours=1))
    make_posts(workspace, 3, timezone.now() - dt.timedelta(minutes=5), "late")
    assert cleanup.delete_next_batch(checkpoint, 10)[0] == 0
    assert cleanup.cleanup_expired_posts() == 0 and cleanup.cleanup_expired_posts() == 3
