"""cleanup_expired_posts: delete posts past their TTL in batches, with their memory, enrichments and the graph
nodes they leave orphaned, saving a checkpoint with each batch so a killed run resumes where it stopped."""

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from memory.conf import memory_settings
from memory.models import Entity, Memory, Relation

from . import metrics
from .indexing import POSTS_PROJECT_SLUG
from .models import Post, PostCleanupCheckpoint

CHECKPOINT = "expired-posts"


def delete_next_batch(checkpoint, batch_size):
    """Delete the next batch after the checkpoint, then move the checkpoint, in one transaction; return the count.

    Killed before the commit, the batch and the checkpoint both roll back: the next run deletes the same
    ids (nothing missed); after it, they are gone and the checkpoint is past them (nothing done twice).
    """
    with transaction.atomic():
        checkpoint = PostCleanupCheckpoint.objects.select_for_update().get(pk=checkpoint.pk)
        ids = list(Post.objects.filter(expires_at__lte=checkpoint.cutoff, pk__gt=checkpoint.last_id)
                   .order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return 0, checkpoint
        memories = Memory.objects.filter(project__slug=POSTS_PROJECT_SLUG, metadata__post_id__in=ids)
        projects = set(memories.values_list("project_id", flat=True))
        Relation.objects.filter(source_memory__in=memories).delete()
        memories.delete()
        Post.objects.filter(pk__in=ids).delete()  # enrichments go with them (CASCADE)
        # Entities of the posts projects that no relation reaches any more.
        Entity.objects.filter(project_id__in=projects).exclude(
            Exists(Relation.objects.filter(Q(subject=OuterRef("pk")) | Q(object=OuterRef("pk"))))).delete()
        checkpoint.last_id = ids[-1]
        checkpoint.deleted += len(ids)
        checkpoint.save(update_fields=["last_id", "deleted", "updated_at"])
    metrics.CLEANUP_DELETED.inc(len(ids))
    return len(ids), checkpoint


def start_or_resume(now=None):
    """The checkpoint of the unfinished run, or a fresh one cut off at now."""
    checkpoint, _ = PostCleanupCheckpoint.objects.get_or_create(name=CHECKPOINT)
    if checkpoint.cutoff is None:
        checkpoint.cutoff, checkpoint.last_id, checkpoint.deleted = now or timezone.now(), 0, 0
        checkpoint.save()
    return checkpoint


def cleanup_expired_posts(batch_size=None, on_batch=None):
    """Delete every post expired at the run's cut-off; return how many this run (with its resumed part) deleted."""
    batch_size = batch_size or memory_settings.POSTS_CLEANUP_BATCH_SIZE
    checkpoint = start_or_resume()
    while True:
        count, checkpoint = delete_next_batch(checkpoint, batch_size)
        if not count:
            break
        if on_batch:
            on_batch(checkpoint.deleted)
    deleted = checkpoint.deleted
    # Finished: the next run starts from a new cut-off.
    checkpoint.cutoff, checkpoint.last_id, checkpoint.deleted = None, 0, 0
    checkpoint.save()
    return deleted
