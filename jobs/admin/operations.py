"""Operator pages: Queues (pause and resume) and Workers."""

import logging
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from redis.exceptions import RedisError

from ..conf import jobs_settings
from ..models import Worker
from ..pausing import pause_queue, resume_queue
from ..queues import rq_queue_name
from ..stats import queue_overview
from .bulk import empty_queue_view
from .formatting import human_seconds, run_link
from .readonly import ReadOnlyAdminMixin

logger = logging.getLogger("jobs.admin")
# Pausing a queue stops every worker taking its runs: an operation on the queue, as django-rq's
# actions are, not an edit of worker rows (jobs.change_worker).
OPERATE_QUEUES = "jobs.operate_queues"


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
        for queue in jobs_settings.QUEUES:
            lanes = [rq_queue_name(queue, lane) for lane in jobs_settings.LANES]
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
            path("queues/<str:queue>/empty/", self.admin_site.admin_view(partial(empty_queue_view, self)),
                 name="jobs_worker_empty_queue"),
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
            "can_pause": request.user.has_perm(OPERATE_QUEUES),
            "can_empty": request.user.has_perm(OPERATE_QUEUES),
        }
        return TemplateResponse(request, "admin/jobs/ops/queues.html", context)

    def _pause_or_resume(self, request):
        if not request.user.has_perm(OPERATE_QUEUES):
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
