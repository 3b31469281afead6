"""One import of a Telegram Desktop export: its file, counters and outcome."""

from django.conf import settings
from django.db import models

from memory.core.tenancy import ScopedQuerySet

from .status import JobStateMixin

COUNTERS = ("seen", "created", "updated", "duplicates", "skipped_service", "skipped_media", "failed")


class MessageIngestionJob(JobStateMixin):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="ingestion_jobs")
    source_file = models.CharField(max_length=500, help_text="Path of the export's result.json.")
    original_name = models.CharField(max_length=255, blank=True)
    chat = models.ForeignKey("memory.Chat", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="ingestion_jobs")
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    skipped_service = models.PositiveIntegerField(default=0)
    skipped_media = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Import {self.pk} ({self.original_name or self.source_file})"

    @property
    def progress(self):
        return min(1.0, self.bytes_read / self.bytes_total) if self.bytes_total else None

    @property
    def progress_percent(self):
        if self.status == "completed":
            return 100
        return round(100 * self.progress) if self.progress is not None else 0

    def counters(self):
        return {name: getattr(self, name) for name in COUNTERS}

    def save_counters(self, counters, bytes_read):
        for name in COUNTERS:
            setattr(self, name, counters[name])
        self.bytes_read = bytes_read
        self.save(update_fields=[*COUNTERS, "bytes_read"])
