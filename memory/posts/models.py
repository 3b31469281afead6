"""Posts as they arrive from a channel, their recorded stage events, enrichments and the cleanup checkpoint."""

import hashlib
import json

from django.db import models
from django.db.models import Func, Value
from django.utils import timezone
from pgvector.django import VectorField

from memory.core.memories import EMBEDDING_DIMENSIONS
from memory.core.tenancy import ScopedQuerySet

__all__ = ["Post", "PostEnrichment", "PostCleanupCheckpoint"]


def text_hash(text):
    """The SHA-256 of a text with its whitespace normalised: what tagging and its dedup keys are about."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def tag_key(tag):
    """A tag compared the way the substring check compares it: casefolded, whitespace normalised."""
    return " ".join(tag.casefold().split())


class PostQuerySet(ScopedQuerySet):
    def expired(self, now=None):
        return self.filter(expires_at__lte=now or timezone.now())

    def tagged_with(self, tag):
        """Posts whose persisted tags hold tag (compared casefolded, as tagging stores them)."""
        return self.filter(enrichments__kind=PostEnrichment.Kind.TAGS,
                           enrichments__data__keys__contains=[tag_key(tag)])


class Post(models.Model):
    class Source(models.TextChoices):
        TELEGRAM = "telegram", "Telegram webhook"
        API = "api", "API"
        STREAM = "stream", "Redis stream"

    class Stage(models.TextChoices):
        PARSED = "parsed", "Parsed"
        TAGGED = "tagged", "Tagged"
        ENRICHED = "enriched", "Enriched"
        INDEXED = "indexed", "Indexed"

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="posts")
    source = models.CharField(max_length=10, choices=Source.choices)
    external_id = models.CharField(max_length=200)
    channel = models.CharField(max_length=255, blank=True, db_index=True)
    text = models.TextField()
    text_hash = models.CharField(max_length=64)
    links = models.JSONField(default=list, blank=True)
    # Attached images to OCR: {"url": ...} (API) or {"telegram": {"kind", "sizes": [PhotoSize...]}} (Bot API).
    images = models.JSONField(default=list, blank=True)
    # Bumped by every edit of the text: tagging's dedup key names it, so a text edited back to an earlier
    # one is tagged again (its old key says "done" for a text that is no longer the current one).
    revision = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.PARSED, db_index=True)
    # [{"event": "posts.tagged", "at": iso, ...}] in the order they happened; appended in SQL (see record_event).
    events = models.JSONField(default=list, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "external_id"],
                                               name="posts_post_external_uniq")]
        indexes = [
            # cleanup_expired_posts walks expired rows in id order.
            models.Index(fields=["expires_at", "id"], name="posts_post_expiry_idx",
                         condition=models.Q(expires_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.channel or self.source} #{self.external_id}"

    @staticmethod
    def event_entry(event, **data):
        return {"event": event, "at": timezone.now().isoformat(), **data}

    def record_event(self, event, stage=None, **data):
        """Append a stage event to the post (in SQL: concurrent stages never lose one) and move its stage."""
        entry = self.event_entry(event, **data)
        changes = {"events": Func(models.F("events"), Value(json.dumps([entry])), template="%(expressions)s::jsonb",
                                  arg_joiner=" || ", output_field=models.JSONField()),
                   "updated_at": timezone.now()}
        if stage is not None:
            changes["stage"] = stage
            self.stage = stage
        Post.objects.filter(pk=self.pk).update(**changes)
        self.events = [*self.events, entry]
        return entry


class EnrichmentQuerySet(ScopedQuerySet):
    workspace_field = "post__workspace_id"


class PostEnrichment(models.Model):
    class Kind(models.TextChoices):
        TAGS = "tags", "Tags"
        CRAWL = "crawl", "Crawled links"
        VISION = "vision", "Vision"
        OCR = "ocr", "OCR"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="enrichments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    tags_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = EnrichmentQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "kind"], name="posts_enrichment_uniq")]

    def __str__(self):
        return f"{self.post} {self.kind}"


class PostCleanupCheckpoint(models.Model):
    """Where a cleanup run stopped: its cut-off time and the last post id it deleted, saved with each batch."""

    name = models.CharField(max_length=50, unique=True)
    cutoff = models.DateTimeField(null=True, blank=True)
    last_id = models.BigIntegerField(default=0)
    deleted = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.name
