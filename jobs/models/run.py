"""The run ledger: one row per enqueued task, the source of truth for its state."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..retry import RetryPolicy
from ..run_ids import new_run_id
from ..status import Lane, RunStatus, Trigger
from .run_enqueue import RunEnqueue
from .run_execution import RunExecution
from .run_queryset import JobRunQuerySet
from .run_transitions import RunTransitions


class JobRun(RunTransitions, RunEnqueue, RunExecution, models.Model):
    """One row per enqueued task, the source of truth for its state.

    Its methods live by concern: run_transitions (the state machine and retry decision),
    run_enqueue (insert and dispatch) and run_execution (claim, progress, success).
    """

    id = models.UUIDField(primary_key=True, default=new_run_id, editable=False)  # time-ordered (v7)
    task_path = models.CharField(max_length=255)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=64)
    lane = models.CharField(max_length=10, choices=Lane.choices, default=Lane.NORMAL)
    priority = models.SmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING)

    attempt = models.PositiveIntegerField(default=0, help_text="Attempts started (interrupted ones excluded).")
    max_attempts = models.PositiveIntegerField(default=1)
    retry_policy = models.JSONField(default=dict, blank=True)
    soft_time_limit = models.FloatField(null=True, blank=True)
    hard_time_limit = models.FloatField(null=True, blank=True)
    result_ttl = models.PositiveIntegerField(default=600)
    dispatches = models.PositiveIntegerField(default=0, help_text="Times handed to RQ; part of the RQ job id.")

    enqueued_at = models.DateTimeField(default=timezone.now)
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    worker_name = models.CharField(max_length=255, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.IntegerField(null=True, blank=True)

    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=500, blank=True)
    progress_updated_at = models.DateTimeField(null=True, blank=True)

    result = models.JSONField(null=True, blank=True)
    error_type = models.CharField(max_length=255, blank=True)
    error_message = models.TextField(blank=True)
    error_traceback = models.TextField(blank=True)

    # Mostly NULL: partial indexes (Meta) instead of full ones, which every status change would
    # have to update (a status change is never a HOT update: status is indexed).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
                               db_index=False)
    root = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="descendants",
                             db_index=False)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries",
                                 db_index=False)
    schedule = models.ForeignKey("jobs.Schedule", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="runs", db_index=False)
    unique_key = models.CharField(max_length=255, null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.API)
    # The X-Request-ID of the web request that enqueued it (children inherit their parent's): logs join on it.
    request_id = models.CharField(max_length=64, blank=True, default="")
    enqueued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )

    objects = JobRunQuerySet.as_manager()

    class Meta:
        ordering = ["-enqueued_at"]
        indexes = [
            models.Index(fields=["status", "-enqueued_at"], name="jobs_run_status_idx"),
            models.Index(fields=["task_path", "-enqueued_at"], name="jobs_run_task_idx"),
            models.Index(fields=["-enqueued_at"], name="jobs_run_enqueued_idx"),
            # One per admin filter, each in the changelist's order, so a filtered page is an index scan.
            models.Index(fields=["queue", "-enqueued_at"], name="jobs_run_queue_idx"),
            models.Index(fields=["trigger", "-enqueued_at"], name="jobs_run_trigger_idx"),
            *[
                models.Index(fields=[name], name=f"jobs_run_{name}_idx", condition=models.Q(**{f"{name}__isnull": False}))
                for name in ("parent", "root", "retry_of", "enqueued_by", "schedule")
            ],
            models.Index(fields=["request_id"], name="jobs_run_request_idx", condition=~models.Q(request_id="")),
            # The outbox and reconciler scan only the few unfinished rows of a huge table.
            models.Index(
                fields=["status_changed_at"], name="jobs_run_unfinished_idx",
                condition=models.Q(status__in=RunStatus.active()),
            ),
        ]
        constraints = [
            # Two enqueues of the same unique key race here; the loser gets the winner's run.
            models.UniqueConstraint(
                fields=["unique_key"], name="jobs_run_unique_key_active",
                condition=models.Q(status__in=RunStatus.active()) & models.Q(unique_key__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.task_path} [{self.status}] {self.id}"

    # --- reading ------------------------------------------------------------------------

    @property
    def policy(self):
        return RetryPolicy.from_json(self.retry_policy)

    @property
    def rq_queue_name(self):
        return f"{self.queue}.{self.lane}"

    @property
    def rq_job_id(self):
        """The id of the run's current RQ job; each dispatch gets a fresh one, so a re-dispatch
        never collides with RQ still finishing the job of the previous attempt."""
        return f"{self.pk}-{self.dispatches}"

    @property
    def is_finished(self):
        return self.status in RunStatus.terminal()

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def progress_fraction(self):
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)
