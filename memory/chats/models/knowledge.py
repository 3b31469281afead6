"""What a chat knows: topics (keywords and a centroid) and atoms (units of knowledge)."""

from django.db import models
from django.utils import timezone
from pgvector.django import VectorField

from memory.core.memories import EMBEDDING_DIMENSIONS
from memory.core.tenancy import ScopedQuerySet


class ChatTopic(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="chat_topics")
    name = models.CharField(max_length=200)
    keywords = models.JSONField(default=list, blank=True)
    # The mean of its messages' embeddings (re-normalised); new messages join the nearest centroid.
    centroid = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="chats_topic_uniq")]

    def __str__(self):
        return self.name


class Atom(models.Model):
    class Kind(models.TextChoices):
        FACT = "fact", "Fact"
        DECISION = "decision", "Decision"
        QUESTION = "question", "Question"
        TASK = "task", "Task"
        PROBLEM = "problem", "Problem"
        INSIGHT = "insight", "Insight"

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="atoms")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FACT)
    title = models.CharField(max_length=200)
    content = models.TextField()
    source_messages = models.ManyToManyField("memory.Message", related_name="atoms", blank=True)
    topic = models.ForeignKey(ChatTopic, null=True, blank=True, on_delete=models.SET_NULL, related_name="atoms")
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_hash = models.CharField(max_length=64, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title
