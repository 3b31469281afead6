"""Operator pages: Queues (pause and resume), Workers, Tasks, and task policy overrides with their audit."""

import logging
from dataclasses import replace
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, Value
from django.db.models.functions import Floor
from django.http import HttpResponseRedirect
from django.tasks.exceptions import InvalidTask
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from redis.exceptions import RedisError

from ..definitions import catalog
from ..models import JobAttempt, JobRun, TaskPolicy, TaskPolicyChange, Worker
from ..pausing import pause_queue, paused_queues, resume_queue
from ..queues import get_redis, get_rq_queue, lane_for_priority, rq_queue_name
from ..status import AttemptOutcome, RunStatus
from .readonly import ReadOnlyAdminMixin

logger = logging.getLogger("jobs.admin")

FAILED_OUTCOMES = [AttemptOutcome.FAILED, AttemptOutcome.SOFT_TIME_LIMIT, AttemptOutcome.HARD_TIME_LIMIT,
                   AttemptOutcome.WORKER_LOST]
# The Tasks page's windows: length, and the width of one bar of its chart (an hour, except in
# the one-hour window, where a single bar would say nothing).
WINDOWS = {
    "1h": (timedelta(hours=1), timedelta(minutes=5), "5 minutes"),
    "24h": (timedelta(hours=24), timedelta(hours=1), "hour"),
    "7d": (timedelta(days=7), timedelta(hours=1), "hour"),
}
DEFAULT_WINDOW = "24h"
CHART_WIDTH, CHART_HEIGHT = 336, 32


def human_seconds(seconds):
    """Format a duration for a table cell: 0.42s, 7.5s, 3m 05s, 2h 10m, 4d 3h."""
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.2g}s" if seconds < 1 else f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def run_link(run_id, label=None):
    """Link to a run's admin page (plain text where the run admin is not installed)."""
    try:
        url = reverse("admin:jobs_jobrun_change", args=[run_id])
    except NoReverseMatch:
        return label or str(run_id)
    return format_html('<a href="{}">{}</a>', url, label or run_id)


class Epoch(Func):
    """Seconds in an interval, as a float."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
    output_field = FloatField()


class Percentile(Aggregate):
    """PostgreSQL's interpolated percentile: percentile_cont(f) WITHIN GROUP (ORDER BY expr); NULLs skipped."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def __init__(self, expression, fraction, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


# --- the Queues page -----------------------------------------------------------------------


def queue_overview(now=None):
    """Every queue with its lanes: depth, oldest wait, running, failures and dead runs, listeners."""
    now = now or timezone.now()
    lanes = [(queue, lane) for queue in settings.JOBS_QUEUES for lane in settings.JOBS_LANES]
    depth, paused, redis_error = {}, set(), None
    try:
        redis = get_redis()
        with redis.pipeline(transaction=False) as pipe:
            for queue, lane in lanes:
                pipe.llen(get_rq_queue(rq_queue_name(queue, lane)).key)
            depth = dict(zip(lanes, pipe.execute()))
        paused = paused_queues()
    except RedisError as exc:
        redis_error = str(exc)

    # One LIMIT 1 per lane, ordered like the (status, -enqueued_at) index, in a single UNION ALL;
    # lanes Redis reports empty are skipped, since each probe walks the queued rows until it
    # finds its lane.
    probes = [
        JobRun.objects.filter(status=RunStatus.QUEUED, queue=queue, lane=lane)
        .order_by("enqueued_at").values_list("queue", "lane", "enqueued_at")[:1]
        for queue, lane in lanes if depth.get((queue, lane)) != 0
    ]
    oldest = {}
    if probes:
        oldest = {(q, lane): at for q, lane, at in probes[0].union(*probes[1:], all=True)}

    since = now - timedelta(hours=24)
    counts = {
        (row["queue"], row["lane"]): row
        for row in JobRun.objects.filter(Q(status=RunStatus.RUNNING)
                                         | Q(status=RunStatus.DEAD, finished_at__gte=since))
        .values("queue", "lane").order_by()
        .annotate(running=Count("pk", filter=Q(status=RunStatus.RUNNING)),
                  dead=Count("pk", filter=Q(status=RunStatus.DEAD)))
    }
    failures = {
        (row["run__queue"], row["run__lane"]): row["n"]
        for row in JobAttempt.objects.filter(finished_at__gte=since, outcome__in=FAILED_OUTCOMES)
        .values("run__queue", "run__lane").order_by().annotate(n=Count("pk"))
    }
    listeners = {}
    for worker in Worker.objects.alive(now).only("name", "queues"):
        for name in worker.queues:
            listeners.setdefault(name, []).append(worker.name)

    queues = []
    for queue in settings.JOBS_QUEUES:
        rows = []
        for lane in settings.JOBS_LANES:
            key, name = (queue, lane), rq_queue_name(queue, lane)
            enqueued_at = oldest.get(key)
            rows.append({
                "name": name, "lane": lane, "depth": depth.get(key, "?"),
                "oldest": human_seconds((now - enqueued_at).total_seconds()) if enqueued_at else "-",
                "running": counts.get(key, {}).get("running", 0), "dead": counts.get(key, {}).get("dead", 0),
                "failed": failures.get(key, 0), "workers": sorted(listeners.get(name, [])),
            })
        queues.append({"name": queue, "paused": queue in paused, "lanes": rows})
    return {"queues": queues, "paused": sorted(paused), "redis_error": redis_error}


# --- the Workers page ------------------------------------------------------------------------


class WorkerStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("alive", "alive"), ("dead", "dead (heartbeat gone)"), ("stopped", "stopped")]

    def queryset(self, request, queryset):
        if self.value() == "alive":
            return queryset.alive()
        if self.value() == "dead":
            return queryset.silent()
        if self.value() == "stopped":
            return queryset.filter(stopped_at__isnull=False)
        return queryset


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Workers are history: viewed here, never edited. Also serves the Queues page."""

    list_display = ["name", "host", "pid", "listens_to", "state", "current", "heartbeat", "jobs_done", "jobs_failed"]
    list_filter = [WorkerStateFilter]
    list_select_related = ["current_run"]
    search_fields = ["name", "host"]
    fields = ["name", "host", "pid", "queues", "state", "current", "started_at", "heartbeat_at", "heartbeat",
              "stopped_at", "jobs_done", "jobs_failed"]
    readonly_fields = fields
    change_list_template = "admin/jobs/ops/worker_change_list.html"

    @admin.display(description="queues")
    def listens_to(self, worker):
        # A worker on every lane of a queue shows the queue once: 21 lane names fit no column.
        names = set(worker.queues)
        shown = []
        for queue in settings.JOBS_QUEUES:
            lanes = [rq_queue_name(queue, lane) for lane in settings.JOBS_LANES]
            if names.issuperset(lanes):
                shown.append(queue)
                names.difference_update(lanes)
        return ", ".join(shown + sorted(names)) or "-"

    @admin.display(description="state")
    def state(self, worker):
        if worker.stopped_at is not None:
            return "stopped"
        return "alive" if worker.is_alive() else "dead"

    @admin.display(description="current run")
    def current(self, worker):
        if worker.current_run_id is None:
            return "-"
        label = worker.current_run.task_path if worker.current_run else worker.current_run_id
        return run_link(worker.current_run_id, label)

    @admin.display(description="last heartbeat", ordering="-heartbeat_at")
    def heartbeat(self, worker):
        return f"{human_seconds((timezone.now() - worker.heartbeat_at).total_seconds())} ago"

    def get_urls(self):
        return [
            path("queues/", self.admin_site.admin_view(self.queues_view), name="jobs_worker_queues"),
            *super().get_urls(),
        ]

    def queues_view(self, request):
        """Show every queue's lanes; POST pauses or resumes one queue."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._pause_or_resume(request)
        context = {
            **self.admin_site.each_context(request),
            **queue_overview(),
            "title": "Queues",
            "opts": self.model._meta,
            "can_pause": request.user.has_perm("jobs.change_worker"),
        }
        return TemplateResponse(request, "admin/jobs/ops/queues.html", context)

    def _pause_or_resume(self, request):
        if not request.user.has_perm("jobs.change_worker"):
            raise PermissionDenied
        queue, action = request.POST.get("queue", ""), request.POST.get("action")
        change = {"pause": pause_queue, "resume": resume_queue}.get(action)
        if change is None:
            self.message_user(request, f"Unknown action {action!r}.", messages.ERROR)
            return HttpResponseRedirect(request.path)
        try:
            changed = change(queue)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except RedisError as exc:
            self.message_user(request, f"Redis is unavailable, nothing changed: {exc}", messages.ERROR)
        else:
            if not changed:
                self.message_user(request, f"Queue {queue} was already {action}d.", messages.WARNING)
            elif action == "pause":
                logger.info("%s paused queue %s", request.user, queue)
                self.message_user(request, f"Paused queue {queue}: it accepts runs, workers take none.")
            else:
                logger.info("%s resumed queue %s", request.user, queue)
                self.message_user(request, f"Resumed queue {queue}.")
        return HttpResponseRedirect(request.path)


# --- the Tasks page ----------------------------------------------------------------------------


def task_statistics(window, now=None):
    """Per task over the window: counts, percentiles and the chart's buckets, in two queries."""
    now = now or timezone.now()
    length, bucket, _ = WINDOWS[window]
    since = now - length
    recent = JobRun.objects.filter(enqueued_at__gte=since).values("task_path").order_by()
    wait = Epoch(F("started_at") - F("enqueued_at"))
    took = Epoch(F("finished_at") - F("started_at"))
    stats = {
        row["task_path"]: row
        for row in recent.annotate(
            runs=Count("pk"),
            succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
            dead=Count("pk", filter=Q(status=RunStatus.DEAD)),
            finished=Count("pk", filter=Q(status__in=RunStatus.terminal())),
            wait_p50=Percentile(wait, 0.5), wait_p95=Percentile(wait, 0.95),
            run_p50=Percentile(took, 0.5), run_p95=Percentile(took, 0.95),
        )
    }
    buckets = int(length / bucket)
    index = Floor(Epoch(F("enqueued_at") - Value(since)) / bucket.total_seconds())
    series = {}
    for row in recent.annotate(bucket=index).values("task_path", "bucket").annotate(n=Count("pk")):
        position = min(int(row["bucket"]), buckets - 1)  # a run enqueued at exactly `now`
        series.setdefault(row["task_path"], [0] * buckets)[position] += row["n"]
    hours = length.total_seconds() / 3600
    for path_, row in stats.items():
        decided = row["succeeded"] + row["dead"]
        row["success_rate"] = f"{100 * row['succeeded'] / decided:.1f}%" if decided else "-"
        row["throughput"] = f"{row['finished'] / hours:.1f}"
        row["wait"] = f"{human_seconds(row['wait_p50'])} / {human_seconds(row['wait_p95'])}"
        row["run"] = f"{human_seconds(row['run_p50'])} / {human_seconds(row['run_p95'])}"
        row["chart"] = chart(series.get(path_, [0] * buckets), since, bucket)
    return stats


def chart(counts, since, bucket):
    """Bars for an inline SVG: one per bucket, scaled to the busiest."""
    peak = max(counts) or 1
    width = CHART_WIDTH / len(counts)
    bars = []
    for i, count in enumerate(counts):
        height = round(CHART_HEIGHT * count / peak, 1)
        start = timezone.localtime(since + i * bucket)
        bars.append({"x": round(i * width, 2), "y": CHART_HEIGHT - height, "width": max(round(width - 0.5, 2), 1),
                     "height": height, "count": count, "title": f"{start:%a %H:%M}: {count} runs"})
    return {"bars": bars, "peak": max(counts), "width": CHART_WIDTH, "height": CHART_HEIGHT}


OVERRIDES = ["max_attempts", "backoff", "backoff_base", "backoff_cap", "soft_time_limit", "hard_time_limit",
             "priority", "paused"]


def overridden(policy):
    """The overrides a policy sets, as {"field": value}."""
    blank = TaskPolicy()
    return {name: getattr(policy, name) for name in OVERRIDES if getattr(policy, name) != getattr(blank, name)}


def diff(before, after):
    """{"field": [before, after]} for every override that differs."""
    return {name: [getattr(before, name), getattr(after, name)]
            for name in OVERRIDES if getattr(before, name) != getattr(after, name)}


# --- task policies and their audit trail ---------------------------------------------------------


class TaskPolicyForm(forms.ModelForm):
    max_attempts = forms.IntegerField(required=False, min_value=1, max_value=1000)
    priority = forms.IntegerField(required=False, min_value=-100, max_value=100,
                                  help_text="-100..100: above 0 is the high lane, below 0 the low one.")
    backoff_base = forms.FloatField(required=False, min_value=0, help_text="Seconds before the first retry.")
    backoff_cap = forms.FloatField(required=False, min_value=0, help_text="Longest wait in seconds.")
    soft_time_limit = forms.FloatField(required=False, help_text="Seconds; raises SoftTimeLimitExceeded in the task.")
    hard_time_limit = forms.FloatField(required=False, help_text="Seconds; the worker process is killed.")

    class Meta:
        model = TaskPolicy
        fields = ["task_path", *OVERRIDES]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "task_path" in self.fields:  # read-only once the policy exists
            self.fields["task_path"] = forms.ChoiceField(
                label="task", choices=[("", "---------"), *((t.module_path, t.module_path) for t in catalog())],
            )
        task = {t.module_path: t for t in catalog()}.get(self.instance.task_path)
        if task is not None:  # say what an empty field keeps
            code = {"max_attempts": task.retry.max_attempts, "backoff": task.retry.backoff,
                    "backoff_base": task.retry.base, "backoff_cap": task.retry.cap,
                    "soft_time_limit": task.soft_time_limit, "hard_time_limit": task.hard_time_limit,
                    "priority": task.priority}
            for name, value in code.items():
                hint = f"Empty keeps the code's value: {'none' if value is None else value}."
                self.fields[name].help_text = f"{self.fields[name].help_text} {hint}".strip()

    def _positive(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and value <= 0:
            raise ValidationError("Must be a positive number of seconds.")
        return value

    def clean_soft_time_limit(self):
        return self._positive("soft_time_limit")

    def clean_hard_time_limit(self):
        return self._positive("hard_time_limit")

    def clean(self):
        data = super().clean()
        path_ = data.get("task_path") or self.instance.task_path
        task = {t.module_path: t for t in catalog()}.get(path_)
        if task is None:
            if path_ and "task_path" not in self.fields:
                raise ValidationError(f"{path_} is no longer a registered task; delete this override.")
            return data
        # The limits that will apply: an override on one side meets the code's value on the other.
        soft = data.get("soft_time_limit") or task.soft_time_limit
        hard = data.get("hard_time_limit") or task.hard_time_limit
        if soft and hard and soft >= hard:
            self.add_error("soft_time_limit", f"The soft limit ({soft:g}s) must be shorter than the hard "
                                              f"limit ({hard:g}s).")
        changes = {"max_attempts": data.get("max_attempts"), "backoff": data.get("backoff"),
                   "base": data.get("backoff_base"), "cap": data.get("backoff_cap")}
        try:
            replace(task.retry, **{k: v for k, v in changes.items() if v not in (None, "")})
        except InvalidTask as exc:
            raise ValidationError(f"The resulting retry policy is invalid: {exc}") from None
        return data


@admin.register(TaskPolicy)
class TaskPolicyAdmin(admin.ModelAdmin):
    """Overrides of a task's policy; every save writes a TaskPolicyChange. Also serves the Tasks page."""

    form = TaskPolicyForm
    list_display = ["task_path", "overrides", "paused", "updated_at", "updated_by"]
    list_filter = ["paused"]
    list_select_related = ["updated_by"]
    search_fields = ["task_path"]
    change_list_template = "admin/jobs/ops/taskpolicy_change_list.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["task_path", *OVERRIDES]
        return ["task_path", *OVERRIDES, "updated_at", "updated_by", "history"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["task_path", "updated_at", "updated_by", "history"]

    @admin.display(description="overrides")
    def overrides(self, policy):
        return ", ".join(f"{name}={value}" for name, value in overridden(policy).items()) or "-"

    @admin.display(description="changes")
    def history(self, policy):
        changes = TaskPolicyChange.objects.filter(task_path=policy.task_path).select_related("changed_by")[:20]
        if not changes:
            return "-"
        return format_html(
            "<table><tr><th>when</th><th>who</th><th>changes</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                             ((timezone.localtime(c.changed_at).strftime("%Y-%m-%d %H:%M:%S"),
                               c.changed_by or "-", describe_changes(c.changes)) for c in changes)),
        )

    def save_model(self, request, obj, form, change):
        # The admin's change view runs in a transaction: the row lock keeps two concurrent saves
        # from both recording the same "before".
        before = TaskPolicy.objects.select_for_update().get(pk=obj.pk) if change else TaskPolicy()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        changes = diff(before, obj)
        if changes or not change:
            TaskPolicyChange.objects.create(task_path=obj.task_path, changed_by=request.user, changes=changes)

    def delete_model(self, request, obj):
        self._record_removal(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._record_removal(request, list(queryset))
        super().delete_queryset(request, queryset)

    def _record_removal(self, request, policies):
        TaskPolicyChange.objects.bulk_create([
            TaskPolicyChange(task_path=p.task_path, changed_by=request.user, changes=diff(p, TaskPolicy()))
            for p in policies
        ])

    def get_urls(self):
        return [
            path("tasks/", self.admin_site.admin_view(self.tasks_view), name="jobs_taskpolicy_tasks"),
            *super().get_urls(),
        ]

    def tasks_view(self, request):
        """Show every registered task, its policy and overrides, and its ledger statistics."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window")
        window = window if window in WINDOWS else DEFAULT_WINDOW
        stats = task_statistics(window)
        policies = {p.task_path: p for p in TaskPolicy.objects.all()}
        tasks = []
        for task in catalog():
            policy = policies.get(task.module_path)
            tasks.append({
                "path": task.module_path, "queue": task.queue_name, "lane": lane_for_priority(task.priority).value,
                "retry": task.retry.describe(), "soft": human_seconds(task.soft_time_limit),
                "hard": human_seconds(task.hard_time_limit),
                "unique": "args" if task.unique_key is True else (task.unique_key or "-"),
                "policy": policy, "overrides": overridden(policy) if policy else {},
                "stats": stats.get(task.module_path),
            })
        context = {
            **self.admin_site.each_context(request),
            "title": "Tasks",
            "opts": self.model._meta,
            "tasks": tasks,
            "window": window,
            "windows": list(WINDOWS),
            "bucket": WINDOWS[window][2],
            "can_override": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/jobs/ops/tasks.html", context)


def describe_changes(changes):
    """`max_attempts: None → 5; paused: False → True`."""
    if not changes:
        return "created (no overrides)"
    # jsonb keeps keys in its own order; show them in the form's.
    names = sorted(changes, key=lambda name: OVERRIDES.index(name) if name in OVERRIDES else len(OVERRIDES))
    return "; ".join(f"{name}: {changes[name][0]} → {changes[name][1]}" for name in names)


@admin.register(TaskPolicyChange)
class TaskPolicyChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail of task policies: append-only, so view-only here."""

    list_display = ["changed_at", "task_path", "changed_by", "summary"]
    list_select_related = ["changed_by"]
    search_fields = ["task_path"]
    fields = ["task_path", "changed_at", "changed_by", "summary"]
    readonly_fields = fields

    @admin.display(description="changes")
    def summary(self, change):
        return describe_changes(change.changes)
