"""Documents, their pages and chunks, the validation of uncertain chunks, and the upkeep records."""

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


class ValidationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    CORRECTED = "corrected", "Corrected"
    REJECTED = "rejected", "Rejected"


class ValidationTaskQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=ValidationStatus.PENDING)

    def assigned_to(self, user):
        return self.filter(assignee=user)


class ValidationTask(models.Model):
    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="validation_tasks")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="document_validation_tasks")
    priority = models.SmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ValidationStatus.choices, default=ValidationStatus.PENDING)
    correction = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ValidationTaskQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "created_at"]
        constraints = [
            # One open task per chunk: re-running create_validation_tasks adds none twice.
            models.UniqueConstraint(fields=["chunk"], condition=models.Q(status="pending"),
                                    name="validation_one_pending_per_chunk"),
        ]
        indexes = [models.Index(fields=["assignee", "-priority", "created_at"], name="validation_queue_idx",
                                condition=models.Q(status="pending"))]

    def __str__(self):
        return f"validate {self.chunk}"

    def decide(self, user, status, correction=""):
        """Record a decision on a pending task (approve, correct or reject) and audit it; False if already decided."""
        now = timezone.now()
        # Two validators deciding the same task: the first UPDATE wins, the second changes nothing.
        changed = ValidationTask.objects.filter(pk=self.pk, status=ValidationStatus.PENDING).update(
            status=status, correction=correction, decided_by=user, decided_at=now)
        if not changed:
            return False
        before = self.status
        self.status, self.correction, self.decided_by, self.decided_at = status, correction, user, now
        ValidationEvent.objects.create(task=self, actor=user, action=status, before_status=before,
                                       before_text=self.chunk.text if status == ValidationStatus.CORRECTED else "",
                                       after_text=correction)
        return True


class AppendOnlyError(RuntimeError):
    """An audit row was about to be changed or deleted."""


class ValidationEvent(models.Model):
    """The audit trail of validation decisions: rows are only ever added."""

    task = models.ForeignKey(ValidationTask, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=10, choices=ValidationStatus.choices)
    before_status = models.CharField(max_length=10, choices=ValidationStatus.choices)
    before_text = models.TextField(blank=True)
    after_text = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("validation events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("validation events are append-only")


class DocumentLabel(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        PREDICTED = "predicted", "Predicted"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    score = models.FloatField(default=1.0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "name", "source"], name="document_label_uniq")]

    def __str__(self):
        return self.name


class DocumentClassifier(models.Model):
    """A workspace's document classifier: one row per trained version, the newest is used."""

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="document_classifiers")
    version = models.PositiveIntegerField()
    trained_at = models.DateTimeField(default=timezone.now)
    metrics = models.JSONField(default=dict, blank=True)  # {"before": {...}, "after": {...}, "examples": n}
    centroids = models.JSONField(default=dict, blank=True)  # label -> unit vector

    class Meta:
        ordering = ["workspace", "-version"]
        constraints = [models.UniqueConstraint(fields=["workspace", "version"], name="document_classifier_version_uniq")]

    def __str__(self):
        return f"{self.workspace} classifier v{self.version}"


class SearchQueryLog(models.Model):
    # The one workspace searched; empty when the user searched several at once.
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    query = models.CharField(max_length=500)
    results = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    took_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"], name="search_log_created_idx")]


class HealthCheck(models.Model):
    checked_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    results = models.JSONField(default=dict)  # {"storage": {"ok": .., "detail": ..}, "database": .., ...}

    class Meta:
        ordering = ["-checked_at"]
        get_latest_by = "checked_at"


class Backup(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ROTATED = "rotated", "Rotated out"

    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices)
    database_path = models.CharField(max_length=500, blank=True)
    files_path = models.CharField(max_length=500, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    took_s = models.FloatField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
