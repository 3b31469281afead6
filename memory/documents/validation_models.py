"""Validation of uncertain chunks (tasks and their append-only audit trail) and document labels."""

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = [
    "AppendOnlyError", "DocumentClassifier", "DocumentLabel", "ValidationEvent", "ValidationStatus", "ValidationTask",
]


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
    chunk = models.ForeignKey("memory.Chunk", on_delete=models.CASCADE, related_name="validation_tasks")
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

    task = models.ForeignKey("memory.ValidationTask", on_delete=models.PROTECT, related_name="events")
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

    document = models.ForeignKey("memory.Document", on_delete=models.CASCADE, related_name="labels")
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
