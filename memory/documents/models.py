"""Documents, their pages and chunks.

The validation of uncertain chunks lives in validation_models, the upkeep records in upkeep_models;
both are re-exported here, so `from memory.models import ...` (the index module) finds every model.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

# Through the index module (memory.models imports this module last, after these names exist).
from memory.core.memories import EMBEDDING_DIMENSIONS, content_hash
from memory.core.tenancy import ScopedQuerySet

from .search_cache import invalidate_after_commit
from .upkeep_models import Backup, HealthCheck, SearchQueryLog
from .validation_models import (  # AppendOnlyError too: callers import it from here
    AppendOnlyError, DocumentClassifier, DocumentLabel, ValidationEvent, ValidationStatus, ValidationTask,
)

__all__ = [
    "Backup", "Chunk", "Document", "DocumentClassifier", "DocumentLabel", "DocumentPage", "DocumentStatus",
    "DocumentType", "HealthCheck", "SearchQueryLog", "ValidationEvent", "ValidationStatus", "ValidationTask",
]


class DocumentStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class DocumentType(models.TextChoices):
    TEXT = "text", "Plain text"
    MARKDOWN = "markdown", "Markdown"
    HTML = "html", "HTML"
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word (DOCX)"
    PNG = "png", "PNG image"
    JPEG = "jpeg", "JPEG image"
    TIFF = "tiff", "TIFF image"
    UNKNOWN = "unknown", "Unknown"


IMAGE_TYPES = {DocumentType.PNG, DocumentType.JPEG, DocumentType.TIFF}
ACTIVE_STATUSES = (DocumentStatus.UPLOADED, DocumentStatus.PROCESSING)


class DocumentQuerySet(ScopedQuerySet):
    """Documents by workspace role, like every memory row (visible_to, editable_by)."""

    def completed(self):
        return self.filter(status=DocumentStatus.COMPLETED)

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


def document_upload_to(document, filename):
    # The hash names the file: no user-chosen path ever reaches the storage.
    return f"documents/{document.workspace_id}/{document.sha256[:2]}/{document.sha256}"


class Document(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="documents")
    project = models.ForeignKey("memory.Project", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="documents",
                                help_text="The people, organisations and places found in the document join this "
                                          "project's entity graph; without a project they are not linked.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    file = models.FileField(upload_to=document_upload_to, max_length=300, blank=True)
    original_name = models.CharField(max_length=300)
    detected_type = models.CharField(max_length=10, choices=DocumentType.choices, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.UPLOADED)
    error_message = models.TextField(blank=True)
    priority = models.SmallIntegerField(default=0, help_text="Validation tasks of this document get this priority.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=8, blank=True)
    metadata = models.JSONField(default=dict, blank=True)  # title, author, created, ...
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "sha256"], name="document_workspace_sha256_uniq")]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="document_workspace_created_idx"),
            models.Index(fields=["status"], name="document_active_idx", condition=models.Q(status__in=ACTIVE_STATUSES)),
        ]

    def __str__(self):
        return self.original_name

    @property
    def title(self):
        return self.metadata.get("title") or self.original_name

    @property
    def is_image(self):
        return self.detected_type in IMAGE_TYPES

    def _transition(self, allowed, **fields):
        """Write fields only if the row is still in an allowed status; return whether it was."""
        # A concurrent cancel must win over a worker's progress: the guard is in the UPDATE itself.
        fields["updated_at"] = timezone.now()
        changed = type(self).objects.filter(pk=self.pk, status__in=allowed).update(**fields)
        if changed:
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(changed)

    def reopen(self):
        """Make a finished document (completed, failed or cancelled) processable again."""
        return self._transition((DocumentStatus.COMPLETED, DocumentStatus.FAILED, DocumentStatus.CANCELLED),
                                status=DocumentStatus.UPLOADED, error_message="", progress_message="reopened")

    def mark_processing(self, total=0):
        # Not from cancelled: a cancel that lands before the worker starts must win.
        return self._transition(ACTIVE_STATUSES + (DocumentStatus.FAILED, DocumentStatus.COMPLETED),
                                status=DocumentStatus.PROCESSING, error_message="", progress_done=0,
                                progress_total=total, progress_message="started")

    def mark_completed(self):
        return self._transition((DocumentStatus.PROCESSING,), status=DocumentStatus.COMPLETED,
                                processed_at=timezone.now(), progress_message="done")

    def mark_failed(self, reason):
        return self._transition(ACTIVE_STATUSES, status=DocumentStatus.FAILED, error_message=str(reason)[:2000],
                                processed_at=timezone.now(), progress_message="failed")

    def cancel(self):
        """Ask processing to stop at its next page or chunk boundary (or stop a waiting document)."""
        return self._transition(ACTIVE_STATUSES, status=DocumentStatus.CANCELLED, progress_message="cancelled")

    def report_progress(self, done, total, message=""):
        """Record progress; return False when the document was cancelled meanwhile."""
        return self._transition((DocumentStatus.PROCESSING,), progress_done=done, progress_total=total,
                                progress_message=message[:200])

    def is_cancelled(self):
        return type(self).objects.filter(pk=self.pk, status=DocumentStatus.CANCELLED).exists()


# A signal, not a delete() override: the admin's bulk delete, a queryset delete and a workspace's
# cascade all send it, and none of them calls Document.delete().
@receiver(post_delete, sender=Document, dispatch_uid="documents_invalidate_search_on_delete")
def invalidate_search_on_delete(sender, instance, **kwargs):
    """A deleted document's chunks must not come back from a cached search."""
    invalidate_after_commit(instance.workspace_id)


class DocumentPage(models.Model):
    """One page's extracted text, how it was read, and its blocks (paragraphs, headings) with confidences."""

    class Route(models.TextChoices):
        DIGITAL = "digital", "Digital text"
        OCR = "ocr", "OCR"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()  # 1-based
    route = models.CharField(max_length=8, choices=Route.choices)
    text = models.TextField(blank=True)
    confidence = models.FloatField(default=1.0)
    blocks = models.JSONField(default=list, blank=True)  # [{"text", "heading", "confidence"}]

    class Meta:
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_page_uniq")]

    def __str__(self):
        return f"{self.document} p.{self.number}"


class ChunkQuerySet(models.QuerySet):
    def searchable(self):
        return self.filter(excluded=False, document__status=DocumentStatus.COMPLETED)

    def uncertain(self, threshold):
        return self.filter(confidence__lt=threshold, excluded=False)


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    page_start = models.PositiveIntegerField(default=1)
    page_end = models.PositiveIntegerField(default=1)
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField(default=0)
    confidence = models.FloatField(default=1.0)
    # A validator rejected the text: kept for the audit trail, left out of search.
    excluded = models.BooleanField(default=False)
    text_hash = models.CharField(max_length=64, editable=False)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    embedded_hash = models.CharField(max_length=64, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("text", config="english"), output_field=SearchVectorField(), db_persist=True,
    )

    objects = ChunkQuerySet.as_manager()

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_document_ordinal_uniq"),
            models.CheckConstraint(condition=models.Q(confidence__gte=0, confidence__lte=1), name="chunk_confidence_0_1"),
        ]
        indexes = [
            HnswIndex(name="chunk_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
            GinIndex(name="chunk_search_gin", fields=["search_vector"]),
        ]

    def __str__(self):
        return f"{self.document} #{self.ordinal}"

    def save(self, *args, **kwargs):
        self.text_hash = content_hash(self.text)
        if kwargs.get("update_fields") is not None and "text" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "text_hash"}
        super().save(*args, **kwargs)

    def needs_embedding(self, model_id):
        return self.embedding is None or self.embedded_hash != self.text_hash or self.embedding_model != model_id

    @property
    def confidence_band(self):
        """high / medium / low, for the colours of the detail page."""
        if self.confidence >= 0.9:
            return "high"
        return "medium" if self.confidence >= 0.6 else "low"
