"""Memories: what the team said, wrote and decided, with their embedding and search vector."""

import hashlib
from datetime import timedelta

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorCombinable, SearchVectorField
from django.db import models, transaction
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from memory.core.tenancy import ScopedQuerySet

EMBEDDING_DIMENSIONS = 384


class Layer(models.TextChoices):
    SENSORY = "sensory", "Sensory"
    WORKING = "working", "Working"
    EPISODIC = "episodic", "Episodic"
    SEMANTIC = "semantic", "Semantic"
    REFLECTIVE = "reflective", "Reflective"


class Source(models.TextChoices):
    NOTE = "note", "Note"
    MESSAGE = "message", "Message"
    DOCUMENT_CHUNK = "document_chunk", "Document chunk"
    REFLECTION = "reflection", "Reflection"
    API = "api", "API"


def content_hash(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Extracted once, and the text has changed since. Comparing hashes rather than timestamps catches
# every write path that goes through save() (API, admin, services) and an edit made while an
# extraction was reading the old text; the partial index below holds only these rows.
GRAPH_STALE = models.Q(graph_extracted_at__isnull=False) & ~models.Q(graph_extracted_hash=models.F("content_hash"))


# How long a claim keeps other extraction passes off a memory: longer than one extraction (the
# generator's own timeout is 60 s by default). The claim of a worker that died simply runs out.
GRAPH_CLAIM_LEASE = timedelta(minutes=10)


class DayLexemes(SearchVectorCombinable, models.Func):
    """The UTC day of a timestamp as lexemes 'y2023', 'm202305' and 'd20230508' (no positions: weight D).

    Built from extract() on the UTC wall time rather than to_char(), which is only STABLE (its
    month names follow the locale) and so cannot feed a generated column. memory.search.terms
    turns "8 May 2023", "May 2023" or "2023-05-08" in a query into the same lexemes.
    """

    output_field = SearchVectorField()
    template = (
        "array_to_tsvector(ARRAY["
        "'y' || extract(year FROM %(expressions)s AT TIME ZONE 'UTC')::int::text, "
        "'m' || (extract(year FROM %(expressions)s AT TIME ZONE 'UTC')::int * 100"
        " + extract(month FROM %(expressions)s AT TIME ZONE 'UTC')::int)::text, "
        "'d' || (extract(year FROM %(expressions)s AT TIME ZONE 'UTC')::int * 10000"
        " + extract(month FROM %(expressions)s AT TIME ZONE 'UTC')::int * 100"
        " + extract(day FROM %(expressions)s AT TIME ZONE 'UTC')::int)::text])"
    )


# What full-text search reads: the text (weight A), who said it (B: metadata "speaker" or
# "author", as chat imports and conversation loaders record it) and the day it was said (D).
MEMORY_SEARCH_VECTOR = (
    SearchVector("content", config="english", weight="A")
    + SearchVector(Coalesce(KeyTextTransform("speaker", "metadata"), KeyTextTransform("author", "metadata")),
                   config="english", weight="B")
    + DayLexemes("created_at")
)


class MemoryQuerySet(ScopedQuerySet):
    def unexpired(self, now=None):
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now or timezone.now()))

    def searchable_by(self, user, now=None):
        """What search may show a user: the memories of their workspaces that have not expired.

        The memory page and the search API both start here.
        """
        return self.visible_to(user).unexpired(now)

    def expired(self, now=None):
        return self.filter(expires_at__lte=now or timezone.now())

    def unembedded(self):
        return self.filter(embedding__isnull=True)

    def graph_pending(self):
        """Memories the knowledge-graph extraction has not read yet."""
        return self.filter(graph_extracted_at__isnull=True)

    def graph_stale(self):
        """Memories whose text changed after the knowledge-graph extraction read it."""
        return self.filter(GRAPH_STALE)

    def graph_unclaimed(self, now=None):
        """Memories no extraction pass holds a live claim on."""
        return self.filter(models.Q(graph_claimed_until__isnull=True)
                           | models.Q(graph_claimed_until__lte=now or timezone.now()))

    def claim_next_for_graph(self, now=None):
        """Claim the oldest memory here no extraction pass holds; return it, or None if none is left.

        Why a lease taken under SKIP LOCKED, one memory at a time: holding a row lock for the whole
        extraction would keep a transaction open across the generator's HTTP call, blocking edits of
        the memory and pinning a connection idle in transaction. So the row lock covers only the
        claim: a concurrent pass skips the row being claimed right now instead of waiting for it (and
        then taking it too), and afterwards skips it by its lease. One at a time rather than a whole
        batch keeps each lease as short as one extraction and lets parallel passes share the queue.
        """
        now = now or timezone.now()
        with transaction.atomic():
            memory = (self.graph_unclaimed(now).order_by("created_at", "pk")
                      .select_for_update(skip_locked=True, no_key=True).first())
            if memory is not None:
                memory.graph_claimed_until = now + GRAPH_CLAIM_LEASE
                Memory.objects.filter(pk=memory.pk).update(graph_claimed_until=memory.graph_claimed_until)
        return memory


class Memory(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="memories")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="memories")
    content = models.TextField()
    layer = models.CharField(max_length=12, choices=Layer.choices, default=Layer.EPISODIC)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.NOTE)
    importance = models.FloatField(default=0.5)
    strength = models.FloatField(default=1.0)
    # When strength was last brought up to date: decay covers the time since, however often it runs.
    strength_updated_at = models.DateTimeField(default=timezone.now)
    access_count = models.PositiveIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    metadata = models.JSONField(default=dict, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    # What the stored embedding was computed from: re-embedding is skipped when both still match.
    embedding_model = models.CharField(max_length=200, blank=True)
    embedded_hash = models.CharField(max_length=64, blank=True)
    # Kept by Postgres itself from the content, speaker and day, so no write path can forget it.
    search_vector = models.GeneratedField(
        expression=MEMORY_SEARCH_VECTOR, output_field=SearchVectorField(), db_persist=True,
    )
    graph_extracted_at = models.DateTimeField(null=True, blank=True)
    # content_hash of the text the stored relations were extracted from; differs once the text changes.
    graph_extracted_hash = models.CharField(max_length=64, blank=True, editable=False)
    # An extraction pass is reading this memory until then (a lease: a crashed worker's claim runs out).
    graph_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    topics = models.ManyToManyField("memory.Topic", blank=True, related_name="memories")

    objects = MemoryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "memories"
        indexes = [
            HnswIndex(name="memory_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
            GinIndex(name="memory_search_gin", fields=["search_vector"]),
            models.Index(fields=["project", "-created_at"], name="memory_project_created_idx"),
            models.Index(fields=["workspace", "-created_at"], name="memory_workspace_created_idx"),
            models.Index(fields=["expires_at"], name="memory_expires_idx", condition=models.Q(expires_at__isnull=False)),
            models.Index(fields=["created_at"], name="memory_graph_pending_idx",
                         condition=models.Q(graph_extracted_at__isnull=True)),
            models.Index(fields=["created_at"], name="memory_graph_stale_idx", condition=GRAPH_STALE),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(importance__gte=0, importance__lte=1), name="memory_importance_0_1"),
            models.CheckConstraint(condition=models.Q(strength__gte=0, strength__lte=1), name="memory_strength_0_1"),
        ]

    def __str__(self):
        return self.content[:60]

    def save(self, *args, **kwargs):
        self.content_hash = content_hash(self.content)
        if kwargs.get("update_fields") is not None and "content" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "content_hash"}
        super().save(*args, **kwargs)

    def claim_for_graph(self, now=None):
        """Claim this memory for an extraction pass; return it freshly read, or None if it is gone or held."""
        now = now or timezone.now()
        with transaction.atomic():
            # Waiting is fine here: the row lock is only ever held for a claim or a short write.
            memory = Memory.objects.select_for_update(no_key=True).filter(pk=self.pk).first()
            if memory is None or (memory.graph_claimed_until is not None and memory.graph_claimed_until > now):
                return None
            memory.graph_claimed_until = now + GRAPH_CLAIM_LEASE
            Memory.objects.filter(pk=memory.pk).update(graph_claimed_until=memory.graph_claimed_until)
        return memory

    def release_graph_claim(self):
        """Give up our claim (a claim that ran out and was retaken is left to its new holder)."""
        Memory.objects.filter(pk=self.pk, graph_claimed_until=self.graph_claimed_until).update(
            graph_claimed_until=None)

    def needs_embedding(self, model_id):
        return self.embedding is None or self.embedded_hash != self.content_hash or self.embedding_model != model_id
