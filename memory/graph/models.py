"""The knowledge graph: entities, relations between them, and the audit of entity merges."""

from django.db import models
from django.utils import timezone
from pgvector.django import VectorField

from memory.core.memories import EMBEDDING_DIMENSIONS
from memory.core.tenancy import ScopedQuerySet


class Entity(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="entities")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="entities")
    name = models.CharField(max_length=300)
    normalized_name = models.CharField(max_length=300, db_index=True)
    type = models.CharField(max_length=50, blank=True, help_text="person, organization, place, product, ...")
    aliases = models.JSONField(default=list, blank=True)
    # Set when this entity was merged into another; merged entities keep no relations.
    canonical = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    community = models.IntegerField(null=True, blank=True, db_index=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "entities"
        constraints = [
            models.UniqueConstraint(fields=["project", "normalized_name", "type"], name="memory_entity_uniq"),
        ]

    def __str__(self):
        return self.name


class Relation(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="relations")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="relations")
    subject = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="outgoing")
    predicate = models.CharField(max_length=100)
    object = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="incoming")
    confidence = models.FloatField(default=0.5)
    source_memory = models.ForeignKey("memory.Memory", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="relations")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["project", "predicate"], name="memory_relation_pred_idx")]

    def __str__(self):
        return f"{self.subject} {self.predicate} {self.object}"


class EntityMerge(models.Model):
    """An entity folded into another: what it was called, what moved, and when (append-only)."""

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="entity_merges")
    survivor = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="merges")
    merged_entity = models.ForeignKey(Entity, null=True, on_delete=models.SET_NULL, related_name="+")
    merged_name = models.CharField(max_length=300)
    reason = models.CharField(max_length=200, help_text="normalised name, acronym, fuzzy match, ...")
    similarity = models.FloatField(null=True, blank=True)
    relations_moved = models.PositiveIntegerField(default=0)
    merged_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self):
        return f"{self.merged_name} -> {self.survivor}"
