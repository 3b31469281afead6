"""Analysis runs over a window of messages, and the proposals they make for people to accept or reject."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from memory.core.tenancy import ScopedQuerySet

from .status import JobStateMixin


class AnalysisRun(JobStateMixin):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="analysis_runs")
    chat = models.ForeignKey("memory.Chat", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="analysis_runs", help_text="Empty: every chat of the workspace.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    filters = models.JSONField(default=dict, blank=True,
                               help_text='{"keywords": [...], "min_length": 20, "mentions_only": false}')
    batch_size = models.PositiveIntegerField(default=50)
    use_rag = models.BooleanField(default=False)
    agent = models.ForeignKey("memory.AgentConfig", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    project = models.ForeignKey("memory.Project", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+",
                                help_text="Where accepted tasks and decisions are recorded. "
                                          "Empty: the workspace's \"chats\" project.")
    messages_in_window = models.PositiveIntegerField(default=0)
    messages_kept = models.PositiveIntegerField(default=0)
    batches_total = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    proposals_count = models.PositiveIntegerField(default=0)
    error_log = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    @property
    def progress_percent(self):
        if self.status == "completed":
            return 100
        return round(100 * self.batches_done / self.batches_total) if self.batches_total else 0

    def reset_for_rerun(self):
        """Forget the previous attempt's proposals and counters, then go back to pending."""
        self.proposals.all().delete()
        self.messages_in_window = self.messages_kept = self.batches_total = self.batches_done = 0
        self.proposals_count, self.error_log, self.timings = 0, [], {}
        self.save(update_fields=["messages_in_window", "messages_kept", "batches_total", "batches_done",
                                 "proposals_count", "error_log", "timings"])
        super().reset_for_rerun()

    def __str__(self):
        return f"Analysis {self.pk} ({self.window_start:%Y-%m-%d}..{self.window_end:%Y-%m-%d})"


class ProposalQuerySet(ScopedQuerySet):
    workspace_field = "run__workspace_id"

    def open(self):
        return self.filter(review=Proposal.Review.OPEN)


class Proposal(models.Model):
    class Kind(models.TextChoices):
        TASK = "task", "Task"
        DECISION = "decision", "Decision"
        QUESTION = "question", "Open question"
        PROBLEM = "problem", "Problem"

    class Review(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    confidence = models.FloatField()
    source_messages = models.ManyToManyField("memory.Message", related_name="proposals", blank=True)
    context = models.JSONField(default=list, blank=True, help_text="RAG context: ids of related memories.")
    review = models.CharField(max_length=10, choices=Review.choices, default=Review.OPEN)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The task or decision memory an accepted proposal became (see services.review).
    memory = models.OneToOneField("memory.Memory", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="chat_proposal")

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-confidence"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"

    def accept(self, user, memory=None):
        """Open -> accepted, linked to the memory it became (tasks and decisions)."""
        self._review({self.Review.OPEN}, self.Review.ACCEPTED, user, memory=memory)

    def reject(self, user):
        """Open -> rejected. A review is final: rejecting an accepted proposal is refused."""
        self._review({self.Review.OPEN}, self.Review.REJECTED, user, memory=None)

    def _review(self, allowed, review, user, memory):
        changes = {"review": review, "reviewed_by": user, "reviewed_at": timezone.now(), "memory": memory}
        # Conditional on the status we read: two reviewers clicking at once cannot both win.
        if self.review in allowed and Proposal.objects.filter(pk=self.pk, review=self.review).update(**changes):
            for name, value in changes.items():
                setattr(self, name, value)
            return
        self.refresh_from_db(fields=["review"])
        raise ValueError(f"proposal {self.pk} was already {self.review}")
